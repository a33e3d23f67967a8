//! `httplens login`, `logout`, `status` (being written).

pub fn login(_args: super::LoginArgs) -> u8 {
    super::error_line("`login` is not implemented yet");
    1
}
pub fn logout(_args: super::LogoutArgs) -> u8 {
    super::error_line("`logout` is not implemented yet");
    1
}
pub fn status(_args: super::StatusArgs) -> u8 {
    super::error_line("`status` is not implemented yet");
    1
}
