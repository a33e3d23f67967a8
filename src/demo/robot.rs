//! Signing in as the demo user without a browser: a real HTTP client walks the same
//! path a person's browser would (the authorize URL, the provider's login page, its
//! form POST, the redirect to the loopback listener), so the sign-in code under test
//! is exactly the one a browser drives. Used by `httplens demo` on machines where no
//! browser can be opened. It only ever talks to loopback addresses.

use std::time::Duration;

use crate::auth::oauth;
use crate::{net, process};
use url::Url;

/// Why the walk failed (one sentence, never a code or a token).
#[derive(Debug, Clone, thiserror::Error)]
#[error("signing in as the demo user failed: {0}")]
pub struct RobotError(String);

const MAX_STEPS: usize = 8;

/// The first `<form>` of a page: its action and its fields, with the submit button
/// named `action` set to `approve` (the demo provider's "Continue" button).
fn login_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| start + e);
    let form = &html[start..end];
    let attr = |tag: &str, name: &str| -> Option<String> {
        let key = format!("{name}=\"");
        let i = tag.find(&key)? + key.len();
        let j = tag[i..].find('"')? + i;
        Some(unescape(&tag[i..j]))
    };
    let head_end = form.find('>')?;
    let action = attr(&form[..head_end], "action").unwrap_or_default();
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        let tag_end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
        let tag = &rest[i..tag_end];
        if let Some(n) = attr(tag, "name") {
            fields.push((n, attr(tag, "value").unwrap_or_default()));
        }
        rest = &rest[tag_end..];
    }
    fields.push(("action".into(), "approve".into()));
    Some((action, fields))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn loopback(u: &Url) -> Result<(), RobotError> {
    if net::is_loopback(u) {
        Ok(())
    } else {
        Err(RobotError(format!(
            "it would leave this machine ({}); only the local demo provider is followed",
            oauth::origin(u)
        )))
    }
}

/// Follow the sign-in from `authorize_url` until the loopback listener has answered.
/// Succeeds when the listener's page was reached (the flow itself then reports the
/// outcome: a code exchanged, or the provider's error).
pub async fn sign_in_as_demo_user(authorize_url: &str) -> Result<(), RobotError> {
    // reqwest needs the process-wide provider; harmless when it is already there.
    process::install_crypto_provider();
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|e| RobotError(format!("no HTTP client ({e})")))?;
    let mut url =
        Url::parse(authorize_url).map_err(|_| RobotError("the sign-in URL is not a URL".into()))?;
    let mut form: Option<Vec<(String, String)>> = None;
    for _ in 0..MAX_STEPS {
        loopback(&url)?;
        let req = match form.take() {
            Some(f) => http
                .post(url.clone())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(oauth::form_body(&f)),
            None => http.get(url.clone()),
        };
        let resp = req.send().await.map_err(|e| {
            RobotError(format!(
                "{} did not answer ({})",
                oauth::origin(&url),
                oauth::network_reason(&e)
            ))
        })?;
        let status = resp.status();
        if status.is_redirection() {
            let loc = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| RobotError("a redirect had no Location".into()))?;
            url = url
                .join(loc)
                .map_err(|_| RobotError("a redirect's Location is not a URL".into()))?;
            continue;
        }
        let body = resp.text().await.unwrap_or_default();
        match login_form(&body) {
            Some((action, fields)) if status.is_success() => {
                url = url
                    .join(&action)
                    .map_err(|_| RobotError("the login form's action is not a URL".into()))?;
                form = Some(fields);
            }
            // No form: the listener's result page (or an error page) ends the walk.
            _ if status.is_success() || status.is_client_error() => return Ok(()),
            _ => {
                return Err(RobotError(format!(
                    "{} answered {}",
                    oauth::origin(&url),
                    status.as_u16()
                )));
            }
        }
    }
    Err(RobotError(format!(
        "more than {MAX_STEPS} steps without reaching the redirect"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_login_form() {
        let html = r#"<form method="post" action="/ims/authorize/v2/approve">
<input type="hidden" name="pending" value="a&amp;b">
<label>Email <input name="email" value="x@example.test" readonly></label>
<button type="submit" name="action" value="approve">Go</button></form>"#;
        let (action, fields) = login_form(html).unwrap();
        assert_eq!(action, "/ims/authorize/v2/approve");
        assert_eq!(
            fields,
            vec![
                ("pending".to_string(), "a&b".to_string()),
                ("email".to_string(), "x@example.test".to_string()),
                ("action".to_string(), "approve".to_string()),
            ]
        );
        assert!(login_form("<html>done</html>").is_none());
    }

    #[tokio::test]
    async fn refuses_to_leave_loopback() {
        let e = sign_in_as_demo_user("https://ims-na1.adobelogin.com/ims/authorize/v2")
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("only the local demo provider"),
            "{e}"
        );
    }
}
