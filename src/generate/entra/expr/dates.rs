//! The date handling Entra's functions need: reading the date strings its
//! reference shows (`2020-03-16-07:00`, `2009-06-15T01:45:30-07:00`,
//! `8/25/2021 5:41:18 PM`), writing `M/d/yyyy h:mm:ss tt`, .NET custom
//! format strings both ways (FormatDateTime), and AD's FILETIME numbers.

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// 100-nanosecond ticks between 1601-01-01 (FILETIME's epoch) and 1970-01-01.
const FILETIME_UNIX_SECONDS: i64 = 11_644_473_600;

/// Reads a date as CDate does; None when the text is no date it knows.
pub fn parse_flexible(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    parse_iso(text).or_else(|| parse_us(text))
}

/// `yyyy-MM-dd`, then optionally `T` or a space and a time, then an
/// optional `Z` or offset (`-07:00`, `+0800`); no offset means UTC.
fn parse_iso(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i32 = text.get(0..4)?.parse().ok()?;
    let month: u8 = text.get(5..7)?.parse().ok()?;
    let day: u8 = text.get(8..10)?.parse().ok()?;
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let mut rest = &text[10..];
    let mut time = Time::MIDNIGHT;
    if rest.starts_with('T')
        || rest.starts_with(' ') && rest[1..].starts_with(|c: char| c.is_ascii_digit())
    {
        let (t, after) = parse_clock(&rest[1..])?;
        time = t;
        rest = after;
    }
    let offset = parse_offset(rest.trim())?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(offset)
            .to_offset(UtcOffset::UTC),
    )
}

/// `H:mm[:ss[.fffffff]]` at the start of `text`, and what follows.
fn parse_clock(text: &str) -> Option<(Time, &str)> {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let h_len = digits(text);
    let hour: u8 = text.get(..h_len)?.parse().ok()?;
    let mut rest = text.get(h_len..)?.strip_prefix(':')?;
    let minute: u8 = rest.get(..2)?.parse().ok()?;
    rest = &rest[2..];
    let mut second = 0u8;
    let mut nanos = 0u32;
    if let Some(after) = rest.strip_prefix(':') {
        second = after.get(..2)?.parse().ok()?;
        rest = &after[2..];
        if let Some(after) = rest.strip_prefix('.') {
            let n = digits(after);
            let frac = &after[..n];
            let padded = format!("{:0<9}", &frac[..frac.len().min(9)]);
            nanos = padded.parse().ok()?;
            rest = &after[n..];
        }
    }
    Some((Time::from_hms_nano(hour, minute, second, nanos).ok()?, rest))
}

fn parse_offset(text: &str) -> Option<UtcOffset> {
    if text.is_empty() || text == "Z" || text == "z" {
        return Some(UtcOffset::UTC);
    }
    let sign = match text.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = text[1..].replace(':', "");
    if body.len() != 4 && body.len() != 2 {
        return None;
    }
    let hours: i8 = body.get(..2)?.parse().ok()?;
    let minutes: i8 = body
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Some(0), |m| m.parse().ok())?;
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
}

/// `M/d/yyyy[ h:mm[:ss] [AM|PM]]`, in UTC.
fn parse_us(text: &str) -> Option<OffsetDateTime> {
    let (date_part, time_part) = match text.split_once(' ') {
        Some((d, t)) => (d, Some(t.trim())),
        None => (text, None),
    };
    let mut fields = date_part.split('/');
    let month: u8 = fields.next()?.parse().ok()?;
    let day: u8 = fields.next()?.parse().ok()?;
    let year: i32 = fields.next()?.parse().ok()?;
    if fields.next().is_some() {
        return None;
    }
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let time = match time_part {
        None => Time::MIDNIGHT,
        Some(t) => {
            let (clock, meridiem) = match t.rsplit_once(' ') {
                Some((c, m)) => (c, Some(m)),
                None => (t, None),
            };
            let (time, rest) = parse_clock(clock)?;
            if !rest.is_empty() {
                return None;
            }
            match meridiem.map(str::to_ascii_uppercase).as_deref() {
                None => time,
                Some("AM") if time.hour() == 12 => time.replace_hour(0).ok()?,
                Some("AM") => time,
                Some("PM") if time.hour() < 12 => time.replace_hour(time.hour() + 12).ok()?,
                Some("PM") => time,
                Some(_) => return None,
            }
        }
    };
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// `M/d/yyyy h:mm:ss tt` in UTC, as CDate, DateAdd and Now return dates.
pub fn format_us(d: OffsetDateTime) -> String {
    let d = d.to_offset(UtcOffset::UTC);
    let (hour12, meridiem) = match d.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{} {}:{:02}:{:02} {meridiem}",
        u8::from(d.month()),
        d.day(),
        d.year(),
        hour12,
        d.minute(),
        d.second()
    )
}

pub fn from_filetime(ticks: i64) -> Option<OffsetDateTime> {
    let seconds = ticks.div_euclid(10_000_000) - FILETIME_UNIX_SECONDS;
    let nanos = ticks.rem_euclid(10_000_000) * 100;
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .map(|d| d + Duration::nanoseconds(nanos))
}

pub fn to_filetime(d: OffsetDateTime) -> i64 {
    (d.unix_timestamp() + FILETIME_UNIX_SECONDS) * 10_000_000 + i64::from(d.nanosecond() / 100)
}

/// One piece of a .NET custom date and time format string.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// A specifier letter and how many times it is repeated (`yyyy`: y, 4).
    Field(char, usize),
}

const SPECIFIERS: &str = "yMdHhmsfFtzK";

fn pieces(format: &str) -> Vec<Piece> {
    let chars: Vec<char> = format.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let literal = |out: &mut Vec<Piece>, text: String| match out.last_mut() {
        Some(Piece::Literal(l)) => l.push_str(&text),
        _ => out.push(Piece::Literal(text)),
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|&x| x == c)
                .map_or(chars.len(), |p| i + 1 + p);
            literal(&mut out, chars[i + 1..end].iter().collect());
            i = end + 1;
        } else if c == '\\' && i + 1 < chars.len() {
            literal(&mut out, chars[i + 1].to_string());
            i += 2;
        } else if SPECIFIERS.contains(c) {
            let run = chars[i..].iter().take_while(|&&x| x == c).count();
            out.push(Piece::Field(c, run));
            i += run;
        } else {
            literal(&mut out, c.to_string());
            i += 1;
        }
    }
    out
}

/// Formats `d` with a .NET custom format string, in `d`'s own offset.
pub fn format_dotnet(d: OffsetDateTime, format: &str) -> String {
    let mut out = String::new();
    for piece in pieces(format) {
        match piece {
            Piece::Literal(l) => out.push_str(&l),
            Piece::Field(c, n) => out.push_str(&field_text(d, c, n)),
        }
    }
    out
}

fn field_text(d: OffsetDateTime, c: char, n: usize) -> String {
    let pad = |v: i64, width: usize| format!("{v:0width$}");
    let hour12 = match d.hour() % 12 {
        0 => 12,
        h => h,
    };
    match c {
        'y' if n == 2 => pad(i64::from(d.year() % 100), 2),
        'y' if n == 1 => (d.year() % 100).to_string(),
        'y' => pad(i64::from(d.year()), n),
        'M' if n >= 4 => d.month().to_string(),
        'M' if n == 3 => d.month().to_string()[..3].to_string(),
        'M' => pad(i64::from(u8::from(d.month())), n),
        'd' if n >= 4 => d.weekday().to_string(),
        'd' if n == 3 => d.weekday().to_string()[..3].to_string(),
        'd' => pad(i64::from(d.day()), n),
        'H' => pad(i64::from(d.hour()), n.min(2)),
        'h' => pad(i64::from(hour12), n.min(2)),
        'm' => pad(i64::from(d.minute()), n.min(2)),
        's' => pad(i64::from(d.second()), n.min(2)),
        'f' | 'F' => {
            let digits = format!("{:09}", d.nanosecond());
            let shown = &digits[..n.min(7)];
            if c == 'F' {
                shown.trim_end_matches('0').to_string()
            } else {
                shown.to_string()
            }
        }
        't' => {
            let m = if d.hour() < 12 { "AM" } else { "PM" };
            m[..n.min(2)].to_string()
        }
        'z' | 'K' => {
            let offset = d.offset();
            let sign = if offset.is_negative() { '-' } else { '+' };
            let (h, m, _) = offset.as_hms();
            match (c, n) {
                ('K', _) if offset.is_utc() => "Z".into(),
                ('z', 1) => format!("{sign}{}", h.unsigned_abs()),
                ('z', 2) => format!("{sign}{:02}", h.unsigned_abs()),
                _ => format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs()),
            }
        }
        _ => String::new(),
    }
}

/// Reads `text` with a .NET custom format string; None when it does not fit.
pub fn parse_dotnet(text: &str, format: &str) -> Option<OffsetDateTime> {
    let mut rest = text.trim();
    let (mut year, mut month, mut day) = (1i32, 1u8, 1u8);
    let (mut hour, mut minute, mut second, mut nanos) = (0u8, 0u8, 0u8, 0u32);
    let mut pm: Option<bool> = None;
    let mut offset = UtcOffset::UTC;
    let take_digits = |rest: &mut &str, min: usize, max: usize| -> Option<i64> {
        let n = rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if n < min {
            return None;
        }
        let value = rest[..n].parse().ok()?;
        *rest = &rest[n..];
        Some(value)
    };
    for piece in pieces(format) {
        match piece {
            Piece::Literal(l) => rest = rest.strip_prefix(l.as_str())?,
            Piece::Field(c, n) => match c {
                'y' => {
                    let (min, max) = if n <= 2 { (1.max(n), 2) } else { (n, n.max(4)) };
                    let v = take_digits(&mut rest, min, max)?;
                    year = if n <= 2 { 2000 + v as i32 } else { v as i32 };
                }
                'M' => month = take_digits(&mut rest, n.min(2), 2)? as u8,
                'd' => day = take_digits(&mut rest, n.min(2), 2)? as u8,
                'H' | 'h' => hour = take_digits(&mut rest, n.min(2), 2)? as u8,
                'm' => minute = take_digits(&mut rest, n.min(2), 2)? as u8,
                's' => second = take_digits(&mut rest, n.min(2), 2)? as u8,
                'f' | 'F' => {
                    let min = if c == 'f' { n } else { 0 };
                    let start = rest;
                    take_digits(&mut rest, min, n)?;
                    let digits = &start[..start.len() - rest.len()];
                    nanos = format!("{digits:0<9}").parse().ok()?;
                }
                't' => {
                    let upper = rest.get(..n.min(2))?.to_ascii_uppercase();
                    pm = Some(upper.starts_with('P'));
                    if !upper.starts_with('A') && !upper.starts_with('P') {
                        return None;
                    }
                    rest = &rest[n.min(2)..];
                }
                'z' | 'K' => {
                    let len = rest
                        .find(|c: char| !(c.is_ascii_digit() || "+-:Z".contains(c)))
                        .unwrap_or(rest.len());
                    offset = parse_offset(&rest[..len])?;
                    rest = &rest[len..];
                }
                _ => return None,
            },
        }
    }
    if !rest.is_empty() {
        return None;
    }
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(text: &str) -> String {
        format_us(parse_flexible(text).unwrap())
    }

    #[test]
    fn cdate_examples_of_microsofts_reference() {
        assert_eq!(us("2020-03-16-07:00"), "3/16/2020 7:00:00 AM");
        assert_eq!(us("2021-06-30+08:00"), "6/29/2021 4:00:00 PM");
        assert_eq!(us("2009-06-15T01:45:30-07:00"), "6/15/2009 8:45:30 AM");
        assert_eq!(us("8/25/2021 5:41:18 PM"), "8/25/2021 5:41:18 PM");
        assert_eq!(us("2021-08-24"), "8/24/2021 12:00:00 AM");
        assert_eq!(us("2020-12-31 23:59:59-08:00"), "1/1/2021 7:59:59 AM");
        assert!(parse_flexible("not a date").is_none());
        assert!(parse_flexible("2021-13-01").is_none());
    }

    #[test]
    fn filetime_both_ways() {
        let d = from_filetime(129_699_324_000_000_000).unwrap();
        assert_eq!(format_us(d), "1/1/2012 11:00:00 PM");
        assert_eq!(to_filetime(d), 129_699_324_000_000_000);
    }

    #[test]
    fn dotnet_formats_both_ways() {
        let d = parse_dotnet("20150123105347.1Z", "yyyyMMddHHmmss.fZ").unwrap();
        assert_eq!(format_dotnet(d, "yyyy-MM-dd"), "2015-01-23");
        let d = parse_dotnet("2020-12-31-08:00", "yyyy-MM-ddzzz").unwrap();
        assert_eq!(format_dotnet(d, "yyyy-MM-dd"), "2020-12-31");
        let d = parse_dotnet("7/4/2021 03:05:09 PM", "M/d/yyyy hh:mm:ss tt").unwrap();
        assert_eq!(
            format_dotnet(d, "yyyy-MM-ddTHH:mm:ss"),
            "2021-07-04T15:05:09"
        );
        assert_eq!(format_dotnet(d, "'at' h tt"), "at 3 PM");
        assert!(parse_dotnet("2015-01-23", "yyyyMMdd").is_none());
    }
}
