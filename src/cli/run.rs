//! `httplens run` (being written).

pub fn run(_args: super::RunArgs) -> u8 {
    super::error_line("`run` is not implemented yet");
    1
}
