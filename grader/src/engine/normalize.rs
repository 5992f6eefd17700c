//! Normalization: makes output that legitimately varies from run to run (PIDs,
//! line endings, the order of lines the contract leaves free) the same, so it
//! can be compared with a snapshot.
//!
//! ```
//! use grader::engine::normalize::normalize;
//! let text = "b (pid 12)\r\na (pid 7)\nend\n";
//! assert_eq!(normalize(text, &["a ", "b "]), "a (pid [pid])\nb (pid [pid])\nend\n");
//! ```

/// Words after which a number is a process id.
const PID_MARKERS: &[&str] = &["pid ", "parent "];

/// CRLF to LF, PIDs to `[pid]`, and each run of consecutive lines that start
/// with one of `any_order` sorted.
pub fn normalize(text: &str, any_order: &[&str]) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<String> = text.split_inclusive('\n').map(mask_pids).collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut block: Vec<String> = Vec::new();
    for line in lines {
        if any_order.iter().any(|prefix| line.starts_with(prefix)) {
            block.push(line);
            continue;
        }
        block.sort();
        out.append(&mut block);
        out.push(line);
    }
    block.sort();
    out.append(&mut block);
    out.concat()
}

/// Replaces the number after "pid " or "parent " with `[pid]`.
pub fn mask_pids(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    'outer: while !rest.is_empty() {
        for marker in PID_MARKERS {
            if let Some(after) = rest.strip_prefix(marker) {
                let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                if digits > 0 {
                    out.push_str(marker);
                    out.push_str("[pid]");
                    rest = &after[digits..];
                    continue 'outer;
                }
            }
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The most a check's message or a note may hold, in bytes: whatever a
/// program printed, a message quotes a part of it.
pub const MESSAGE_CAP: usize = 4096;

/// `text`, cut to at most `max` bytes (at a character boundary) with what
/// was left out said: "… (1234 more bytes)".
///
/// ```
/// use grader::engine::normalize::cut;
/// assert_eq!(cut("short", 10), "short");
/// let long = cut(&"x".repeat(100), 40);
/// assert!(long.len() <= 40 && long.starts_with("xxxx") && long.ends_with(" more bytes)"), "{long}");
/// assert!(cut(&"é".repeat(100), 41).len() <= 41);
/// ```
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let tail = |keep: usize| format!(" … ({} more bytes)", text.len() - keep);
    let mut keep = max;
    // The tail's length depends on the count it says: settle it.
    for _ in 0..4 {
        let mut next = max.saturating_sub(tail(keep).len());
        while !text.is_char_boundary(next) {
            next -= 1;
        }
        if next == keep {
            break;
        }
        keep = next;
    }
    while keep > 0 && (keep + tail(keep).len() > max || !text.is_char_boundary(keep)) {
        keep -= 1;
    }
    format!("{}{}", &text[..keep], tail(keep))
}

/// A fingerprint of a text (64-bit FNV-1a): a decision holds while the work
/// it was made on is unchanged.
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_follow_the_text() {
        assert_eq!(fingerprint(b"a"), fingerprint(b"a"));
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
        assert_eq!(fingerprint(b""), "cbf29ce484222325");
    }

    #[test]
    fn masks_pids_and_parents() {
        assert_eq!(
            mask_pids("Worker 1 starting (pid 42, parent 7)"),
            "Worker 1 starting (pid [pid], parent [pid])"
        );
        assert_eq!(mask_pids("Worker pid 99 squared 3 = 9"), "Worker pid [pid] squared 3 = 9");
        assert_eq!(mask_pids("no pid here, pid x"), "no pid here, pid x");
    }

    #[test]
    fn sorts_only_the_free_lines() {
        let text = "head\nP 2\nP 1\nmid\nP 4\nP 3\n";
        assert_eq!(normalize(text, &["P "]), "head\nP 1\nP 2\nmid\nP 3\nP 4\n");
        assert_eq!(normalize("x\r\ny", &[]), "x\ny");
    }
}
