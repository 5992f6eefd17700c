#!/usr/bin/env bash
# Grades a submission with the grader of a workspace (the assignment's, at the
# workflow's pinned commit), as the workflow does on every push (and .ci/run
# does in the instructor's CI): the scorecard on stdout, the Markdown scorecard appended to
# $GITHUB_STEP_SUMMARY, results.json in OUT, one notice with the total, and
# the exit status of the grader (0 only at full marks).
#
#   bash .github/grade.sh GRADER_WORKSPACE SUBMISSION_DIR OUT_DIR
set -uo pipefail
grader=$(cd "$1" && pwd)
submission=$(cd "$2" && pwd)
mkdir -p "$3"
out=$(cd "$3" && pwd)

(cd "$grader" && cargo build -p grader --locked --quiet) || exit 2
(cd "$grader" && cargo run -p grader --locked --quiet -- grade --submission "$submission" \
  --json "$out/results.json" --markdown "$out/summary.md") > "$out/scorecard.txt" 2> "$out/grader-stderr.txt"
status=$?

# What a submission prints must be shown, never obeyed as a workflow command
# (::error::, ::add-mask::, ...): stop command processing around it.
token="grade-$(date +%s%N)-$RANDOM"
echo "::stop-commands::$token"
cat "$out/scorecard.txt" "$out/grader-stderr.txt"
echo "::$token::"

if [ -f "$out/summary.md" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$out/summary.md" >> "$GITHUB_STEP_SUMMARY"
fi
total=$(sed -n 's/^Total: \([0-9]*\/[0-9]*\).*/\1/p' "$out/scorecard.txt" | head -n 1)
echo "::notice title=Points::Points ${total:-0/100}"
exit $status
