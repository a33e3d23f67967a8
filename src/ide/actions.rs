//! Code actions. "Convert to request": a `curl ...` command (pasted, or a REST Client
//! curl request) rewritten as the request it describes, in this file's own syntax.

use crate::syntax::ast::LineKind;
use crate::syntax::curl;
use crate::text::TextRange;

use super::Analysis;

/// One edit the user can pick: replace `range` with `new_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub title: String,
    pub range: TextRange,
    pub new_text: String,
}

pub const CONVERT_CURL: &str = "Convert curl command to request";

/// The actions offered for the selection `range`.
pub fn actions(a: &Analysis, range: TextRange) -> Vec<Action> {
    let mut out = Vec::new();
    if let Some(cmd) = curl_command_at(a, range.start as usize)
        && let Ok(r) = curl::parse(cmd.slice(&a.text), cmd.start as usize)
    {
        let text = curl::to_http(&r);
        out.push(Action {
            title: CONVERT_CURL.into(),
            range: cmd,
            new_text: text.trim_end_matches('\n').to_string(),
        });
    }
    out
}

/// The `curl` command of the block at `offset`: its request line and the lines that
/// continue it.
fn curl_command_at(a: &Analysis, offset: usize) -> Option<TextRange> {
    let block = a.block_at(offset)?;
    let mut lines = block.lines.iter().skip_while(|l| {
        !(l.kind == LineKind::RequestLine && {
            let t = l.range.slice(&a.text).trim_start();
            t.starts_with("curl ") || t.starts_with("curl\t") || t == "curl"
        })
    });
    let first = lines.next()?;
    let last = lines
        .take_while(|l| l.kind == LineKind::TargetContinuation)
        .last()
        .unwrap_or(first);
    let start = first.range.start as usize + first.range.slice(&a.text).len()
        - first.range.slice(&a.text).trim_start().len();
    Some(TextRange::new(start, last.range.end as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `$0` marks the cursor; the expected text is the file after the action.
    fn check(fixture: &str, expected: Option<&str>) {
        let at = fixture.find("$0").expect("a cursor");
        let text = fixture.replace("$0", "");
        let a = Analysis::new(text.clone());
        let found = actions(&a, TextRange::new(at, at));
        match expected {
            None => assert!(found.is_empty(), "{found:?}"),
            Some(want) => {
                let act = found.first().expect("an action");
                assert_eq!(act.title, CONVERT_CURL);
                let mut after = text.clone();
                after.replace_range(
                    act.range.start as usize..act.range.end as usize,
                    &act.new_text,
                );
                assert_eq!(after, want);
            }
        }
    }

    #[test]
    fn a_pasted_curl_command_becomes_a_request() {
        check(
            "### create\ncurl -X POST https://h/items \\\n  -H 'Content-Type: application/json' \\\n  -d '{\"a\":$01}'\n\n?? status == 201\n",
            Some(
                "### create\nPOST https://h/items\nContent-Type: application/json\n\n{\n  \"a\": 1\n}\n\n?? status == 201\n",
            ),
        );
        check(
            "GET https://h/a\n\n###\n  curl {{base}}/b -H 'X: {{x}}'$0\n",
            Some("GET https://h/a\n\n###\n  GET {{base}}/b\nX: {{x}}\n"),
        );
    }

    #[test]
    fn nothing_is_offered_elsewhere_or_for_a_command_that_cannot_be_read() {
        check("GET https://h/$0a\n", None);
        check("curl --proxy p https://h/$0a\n", None);
        check("# curl https://h$0\nGET https://h\n", None);
    }
}
