//! System variables that need no environment: `$guid`/`$uuid`, `$randomInt`,
//! `$timestamp`, `$isoTimestamp`, `$datetime`, `$localDatetime` (REST Client), `$date`
//! (kulala), and the
//! JetBrains `$random.*` family. Date formats use the dayjs/moment tokens REST Client
//! documents (`YYYY-MM-DD HH:mm:ss`), translated here to chrono.
//!
//! `$processEnv`, `$dotenv`, `$env.NAME` and `$shared` need the selected environment
//! and live in the resolver.

use chrono::{DateTime, Datelike, Duration, FixedOffset, Local, Months, Utc};

use crate::syntax::Str;

/// Evaluate a system variable that needs only the clock and randomness. `None` when
/// `name` is not one of these; `Some(Err(sentence))` for bad arguments.
pub fn eval(name: &str, args: &[Str], now: DateTime<Utc>) -> Option<Result<String, String>> {
    let r = match name {
        "$guid" | "$uuid" | "$random.uuid" => Ok(uuid::Uuid::new_v4().to_string()),
        "$randomInt" => random_int(args),
        "$timestamp" => offset_time(now, args, 0, name).map(|t| t.timestamp().to_string()),
        "$isoTimestamp" => {
            offset_time(now, args, 0, name).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        }
        // kulala (and rest.nvim): today's local date, `YYYY-MM-DD`.
        "$date" => Ok(now.with_timezone(&Local).format("%Y-%m-%d").to_string()),
        "$datetime" => datetime(now, args, false),
        "$localDatetime" => datetime(now, args, true),
        _ => return random_family(name, args),
    };
    Some(r)
}

fn random_int(args: &[Str]) -> Result<String, String> {
    // REST Client: MIN inclusive, MAX exclusive; JetBrains without arguments: 0..1000.
    let (min, max) = match args {
        [] => (0i64, 1000i64),
        [a, b] => {
            let parse = |s: &str| {
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| format!("`$randomInt` needs two integers, not `{s}`"))
            };
            (parse(a)?, parse(b)?)
        }
        _ => return Err("`$randomInt` takes two integers: `{{$randomInt MIN MAX}}`".into()),
    };
    if min >= max {
        return Err(format!(
            "`$randomInt {min} {max}`: MIN must be smaller than MAX (MAX is excluded)"
        ));
    }
    Ok(fastrand::i64(min..max).to_string())
}

/// JetBrains `$random.integer(from, to)`, `$random.alphabetic(n)`, ... The parser may
/// hand these over as `$random.integer(1, 10)` with or without split arguments.
fn random_family(name: &str, args: &[Str]) -> Option<Result<String, String>> {
    let rest = name.strip_prefix("$random.")?;
    let (func, inner) = match rest.split_once('(') {
        Some((f, a)) => (f, a.trim_end_matches(')').to_string()),
        None => (rest, args.join(",")),
    };
    let nums: Vec<i64> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    let len = nums.first().copied().unwrap_or(10).clamp(0, 10_000) as usize;
    let pick = |chars: &[u8]| -> String {
        (0..len)
            .map(|_| chars[fastrand::usize(0..chars.len())] as char)
            .collect()
    };
    const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const HEX: &[u8] = b"0123456789abcdef";
    let r = match func {
        "integer" => {
            let (a, b) = match nums.as_slice() {
                [a, b] => (*a, *b),
                _ => (0, 1000),
            };
            if a >= b {
                Err(format!(
                    "`$random.integer({a}, {b})`: FROM must be smaller than TO"
                ))
            } else {
                Ok(fastrand::i64(a..b).to_string())
            }
        }
        "float" => Ok(format!("{}", fastrand::f64() * 1000.0)),
        "alphabetic" => Ok(pick(ALPHA)),
        "alphanumeric" => Ok(pick(ALNUM)),
        "hexadecimal" => Ok(pick(HEX)),
        "email" => Ok(format!(
            "{}@example.com",
            (0..8)
                .map(|_| ALPHA[fastrand::usize(0..26)] as char)
                .collect::<String>()
        )),
        _ => return None,
    };
    Some(r)
}

/// `[offset unit]` after the leading `skip` arguments, applied to `now`.
fn offset_time(
    now: DateTime<Utc>,
    args: &[Str],
    skip: usize,
    name: &str,
) -> Result<DateTime<Utc>, String> {
    let rest = args.get(skip..).unwrap_or(&[]);
    match rest {
        [] => Ok(now),
        [n, unit] => {
            let n: i64 = n
                .trim()
                .parse()
                .map_err(|_| format!("`{name}`: the offset `{n}` is not an integer"))?;
            apply_offset(now, n, unit.trim()).ok_or_else(|| {
                format!("`{name}`: unknown offset unit `{unit}` (use y, Q, M, w, d, h, m, s or ms)")
            })
        }
        _ => Err(format!(
            "`{name}` takes an optional offset and unit, like `{name} -1 d`"
        )),
    }
}

fn apply_offset(now: DateTime<Utc>, n: i64, unit: &str) -> Option<DateTime<Utc>> {
    let months = |m: i64| {
        let m32 = u32::try_from(m.unsigned_abs()).ok()?;
        if m >= 0 {
            now.checked_add_months(Months::new(m32))
        } else {
            now.checked_sub_months(Months::new(m32))
        }
    };
    match unit {
        "y" => months(n.checked_mul(12)?),
        "Q" => months(n.checked_mul(3)?),
        "M" => months(n),
        "w" => now.checked_add_signed(Duration::try_weeks(n)?),
        "d" => now.checked_add_signed(Duration::try_days(n)?),
        "h" => now.checked_add_signed(Duration::try_hours(n)?),
        "m" => now.checked_add_signed(Duration::try_minutes(n)?),
        "s" => now.checked_add_signed(Duration::try_seconds(n)?),
        "ms" => now.checked_add_signed(Duration::try_milliseconds(n)?),
        _ => None,
    }
}

fn datetime(now: DateTime<Utc>, args: &[Str], local: bool) -> Result<String, String> {
    let name = if local { "$localDatetime" } else { "$datetime" };
    // Without a format, ISO 8601 (what the REST Client clones that accept it use).
    let iso = Str::new("iso8601");
    let format = args.first().unwrap_or(&iso);
    let t = offset_time(now, args, 1, name)?;
    let t: DateTime<FixedOffset> = if local {
        t.with_timezone(&Local).fixed_offset()
    } else {
        t.fixed_offset()
    };
    Ok(match format.as_str() {
        "rfc1123" if local => t.format("%a, %d %b %Y %H:%M:%S %z").to_string(),
        "rfc1123" => t.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        "iso8601" if local => t.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(),
        "iso8601" => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        pattern => format_dayjs(&t, pattern),
    })
}

/// Format with dayjs/moment tokens (`YYYY-MM-DD HH:mm:ss.SSS Z`); `[text]` is literal,
/// any other character is copied.
pub fn format_dayjs(t: &DateTime<FixedOffset>, pattern: &str) -> String {
    // Longest tokens first, so `MMMM` is not read as `MM` twice.
    const TOKENS: &[(&str, &str)] = &[
        ("YYYY", "%Y"),
        ("MMMM", "%B"),
        ("dddd", "%A"),
        ("MMM", "%b"),
        ("ddd", "%a"),
        ("SSS", "%3f"),
        ("YY", "%y"),
        ("MM", "%m"),
        ("DD", "%d"),
        ("HH", "%H"),
        ("hh", "%I"),
        ("mm", "%M"),
        ("ss", "%S"),
        ("ZZ", "%z"),
        ("dd", ""),
        ("Do", ""),
        ("M", "%-m"),
        ("D", "%-d"),
        ("d", "%w"),
        ("H", "%-H"),
        ("h", "%-I"),
        ("m", "%-M"),
        ("s", "%-S"),
        ("A", "%p"),
        ("a", "%P"),
        ("Z", "%:z"),
        ("Q", ""),
        ("X", ""),
        ("x", ""),
    ];
    let mut out = String::new();
    let mut rest = pattern;
    'outer: while let Some(c) = rest.chars().next() {
        if c == '['
            && let Some(end) = rest.find(']')
        {
            out.push_str(&rest[1..end]);
            rest = &rest[end + 1..];
            continue;
        }
        for (tok, fmt) in TOKENS {
            if let Some(after) = rest.strip_prefix(tok) {
                match *tok {
                    "dd" => out.extend(t.format("%a").to_string().chars().take(2)),
                    "Do" => out.push_str(&ordinal(t.day())),
                    "Q" => out.push_str(&(t.month0() / 3 + 1).to_string()),
                    "X" => out.push_str(&t.timestamp().to_string()),
                    "x" => out.push_str(&t.timestamp_millis().to_string()),
                    _ => out.push_str(&t.format(fmt).to_string()),
                }
                rest = after;
                continue 'outer;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, x) if x != 11 => "st",
        (2, x) if x != 12 => "nd",
        (3, x) if x != 13 => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 2, 29, 13, 5, 9).unwrap() + Duration::milliseconds(42)
    }
    fn s(v: &[&str]) -> Vec<Str> {
        v.iter().map(|x| Str::new(x)).collect()
    }

    #[test]
    fn dates_and_offsets() {
        let now = at();
        let e = |n: &str, a: &[&str]| eval(n, &s(a), now).unwrap().unwrap();
        assert_eq!(e("$timestamp", &[]), now.timestamp().to_string());
        assert_eq!(
            e("$date", &[]),
            now.with_timezone(&Local).format("%Y-%m-%d").to_string()
        );
        assert_eq!(
            e("$timestamp", &["-1", "d"]),
            (now.timestamp() - 86400).to_string()
        );
        assert_eq!(e("$isoTimestamp", &[]), "2024-02-29T13:05:09.042Z");
        assert_eq!(
            e("$datetime", &["rfc1123"]),
            "Thu, 29 Feb 2024 13:05:09 GMT"
        );
        assert_eq!(e("$datetime", &["iso8601"]), "2024-02-29T13:05:09.042Z");
        assert_eq!(
            e("$datetime", &["iso8601", "1", "y"]),
            "2025-02-28T13:05:09.042Z"
        );
        assert_eq!(
            e("$datetime", &["DD-MM-YYYY HH:mm:ss.SSS [at] Z", "2", "h"]),
            "29-02-2024 15:05:09.042 at +00:00"
        );
        assert_eq!(
            e("$datetime", &["dddd, MMMM Do YY h:m A X"]),
            format!("Thursday, February 29th 24 1:5 PM {}", now.timestamp())
        );
        assert!(
            eval("$datetime", &s(&["iso8601", "1", "parsec"]), now)
                .unwrap()
                .unwrap_err()
                .contains("unknown offset unit `parsec`")
        );
        let local = e("$localDatetime", &["iso8601"]);
        assert!(local.len() >= 29, "{local}");
    }

    #[test]
    fn random_values() {
        let now = at();
        for _ in 0..50 {
            let v: i64 = eval("$randomInt", &s(&["5", "8"]), now)
                .unwrap()
                .unwrap()
                .parse()
                .unwrap();
            assert!((5..8).contains(&v));
        }
        assert!(eval("$randomInt", &s(&["8", "5"]), now).unwrap().is_err());
        let g = eval("$guid", &[], now).unwrap().unwrap();
        assert!(uuid::Uuid::parse_str(&g).is_ok());
        let h = eval("$random.hexadecimal(6)", &[], now).unwrap().unwrap();
        assert_eq!(h.len(), 6);
        assert!(eval("$nope", &[], now).is_none());
    }
}
