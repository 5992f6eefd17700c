//! The reference's normalized output, as accepted through insta's review
//! flow (`cargo insta review`) into `grader/tests/snapshots/`.
//!
//! The files are compiled in, so grading compares against exactly what was
//! reviewed, whatever insta settings a workspace carries (`INSTA_FORCE_PASS`,
//! `.config/insta.yaml`): insta's own assertion only runs after this check.

/// The snapshot called `name` (its body, without insta's header).
pub fn expected(name: &str) -> Option<&'static str> {
    let file = match name {
        "q3_process" => include_str!("../tests/snapshots/q3_process.snap"),
        "q5_pool" => include_str!("../tests/snapshots/q5_pool.snap"),
        "q6_four_procs" => include_str!("../tests/snapshots/q6_four_procs.snap"),
        _ => return None,
    };
    Some(body(file))
}

/// An insta snapshot file is a `---`-fenced header, then the body.
fn body(file: &str) -> &str {
    let mut parts = file.splitn(3, "---\n");
    match (parts.next(), parts.next(), parts.next()) {
        (Some(""), Some(_header), Some(body)) => body,
        _ => file,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_snapshot_has_a_body() {
        for name in ["q3_process", "q5_pool", "q6_four_procs"] {
            let body = super::expected(name).unwrap();
            assert!(!body.contains("expression:") && body.contains("[pid]"), "{name}: {body}");
        }
    }
}
