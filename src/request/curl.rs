//! A [`RequestSpec`] as a curl command line (POSIX shell quoting), for "copy as curl".
//! Secrets are masked unless `reveal`: headers named like credentials keep their auth
//! scheme (`Bearer ***`), and every value in `RequestSpec::secrets` becomes `***`
//! wherever it appears (URL, headers, body).

use super::code::{shown, shown_headers};
use super::spec::{BodySpec, RequestSpec};
use crate::secret::MASK;

/// The command, one option per line joined with ` \` continuations.
pub fn to_curl(spec: &RequestSpec, reveal: bool) -> String {
    let hide = |s: &str| shown(spec, reveal, s);
    let mut first = vec!["curl".to_string()];
    match spec.method.as_str() {
        "GET" if spec.body.is_none() => {}
        "HEAD" => first.push("--head".into()),
        m => {
            first.push("-X".into());
            first.push(quote(m));
        }
    }
    first.push(quote(&hide(&spec.url)));
    if spec.options.asterisk_form {
        first.push("--request-target".into());
        first.push(quote("*"));
    }
    let mut lines = vec![first.join(" ")];
    for (name, value) in shown_headers(spec, reveal) {
        lines.push(format!("-H {}", quote(&format!("{name}: {value}"))));
    }
    if let Some(d) = &spec.digest {
        let pass = if reveal {
            d.password.clone()
        } else {
            MASK.to_string()
        };
        lines.push(format!(
            "--digest -u {}",
            quote(&format!("{}:{pass}", hide(&d.user)))
        ));
    }
    match &spec.body {
        BodySpec::None => {}
        BodySpec::Bytes(b) => {
            let text = String::from_utf8_lossy(b);
            lines.push(format!("--data-binary {}", quote(&hide(&text))));
        }
        BodySpec::File(p) => {
            lines.push(format!(
                "--data-binary {}",
                quote(&format!("@{}", p.display()))
            ));
        }
    }
    if spec.options.follow_redirects {
        lines.push("--location".into());
    }
    if let Some(t) = spec.options.timeout {
        lines.push(format!("--max-time {}", secs(t)));
    }
    if let Some(t) = spec.options.connect_timeout {
        lines.push(format!("--connect-timeout {}", secs(t)));
    }
    lines.join(" \\\n  ")
}

fn secs(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s}")
    }
}

/// POSIX shell quoting: bare when every character is safe, else single quotes with
/// `'` written as `'\''`.
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | '@' | '%' | '+' | ',')
        });
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::spec::DigestCredentials;

    fn spec() -> RequestSpec {
        let mut s = RequestSpec::for_test(
            "http://127.0.0.1:8080/a?q=it's",
            &[("Authorization", "Bearer tok-123"), ("X-Echo", "tok-123")],
            b"{\"a\": \"it's tok-123\"}",
        );
        s.digest = Some(DigestCredentials {
            user: "u".into(),
            password: "pw".into(),
        });
        s
    }

    #[test]
    fn masked_and_revealed() {
        let s = spec();
        assert_eq!(
            to_curl(&s, false),
            "curl -X POST 'http://127.0.0.1:8080/a?q=it'\\''s' \\\n  \
             -H 'Authorization: Bearer ***' \\\n  -H 'X-Echo: ***' \\\n  \
             --digest -u 'u:***' \\\n  --data-binary '{\"a\": \"it'\\''s ***\"}' \\\n  \
             --location \\\n  --max-time 1.5"
        );
        let revealed = to_curl(&s, true);
        assert!(revealed.contains("'Authorization: Bearer tok-123'"));
        // A digest user that is itself a secret value (found by fuzzing) is masked too.
        let mut s2 = spec();
        s2.digest.as_mut().unwrap().user = "tok-123".into();
        assert!(to_curl(&s2, false).contains("--digest -u '***:***'"));
        assert!(revealed.contains("-u u:pw"));
    }

    #[test]
    fn quoting_round_trips_through_sh() {
        let tricky = "a b'c\"d$e`f\\g\nh";
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", quote(tricky)))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), tricky);
    }
}
