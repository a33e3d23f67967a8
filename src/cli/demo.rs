//! `httplens demo` (being written).

pub fn run(_args: super::DemoArgs) -> u8 {
    super::error_line("`demo` is not implemented yet");
    1
}
