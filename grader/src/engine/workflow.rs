//! The grading workflow a student's repository carries, and its pin: the
//! grader's repository and commit it grades with. A submission is checked
//! against it (whatever its pin), and a release sets it.

/// Where the workflow is, in a student's repository.
pub const WORKFLOW: &str = ".github/workflows/grade.yml";

/// The workflow lines `release` fills in: the grader's repository ...
pub const REPOSITORY_KEY: &str = "GRADER_REPOSITORY:";
/// ... and its commit.
pub const REF_KEY: &str = "GRADER_REF:";

/// Blanks the values of the pin lines (to compare workflows whatever their pin).
pub fn unpin_workflow(text: &str) -> String {
    text.lines()
        .map(|line| match line.trim_start() {
            l if l.starts_with(REPOSITORY_KEY) || l.starts_with(REF_KEY) => {
                let key = l.split(':').next().unwrap_or_default();
                format!("{}{key}: \"\"", &line[..line.len() - l.len()])
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
