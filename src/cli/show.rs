//! `httplens show` (being written).

pub fn run(_args: super::ShowArgs) -> u8 {
    super::error_line("`show` is not implemented yet");
    1
}
