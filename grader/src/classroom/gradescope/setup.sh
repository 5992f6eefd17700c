#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image
# (Ubuntu), with this archive unpacked in /autograder/source. It installs a
# minimal stable Rust where there is none (and leaves one that is there),
# builds the grader, and builds the exercises' dependencies, so that every
# submission later builds offline. Run again, it does only what is missing.
set -euo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
source="$root/source"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! command -v cc >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
  # The linker rustc drives, and the means to fetch rustup.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential curl ca-certificates >/dev/null
fi
# A Rust at least as new as the workspace's rust-version: the one here, or
# a minimal stable one from rustup.
needed="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' "$source/Cargo.toml" | head -n 1)"
have="$(rustc --version 2>/dev/null | awk '{print $2}')"
if [ -z "$have" ] || ! printf '%s\n%s\n' "$needed" "$have" | sort -V -C; then
  if command -v rustup >/dev/null 2>&1; then
    rustup toolchain install stable --profile minimal
    rustup default stable
  else
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
      sh -s -- -y --no-modify-path --profile minimal --default-toolchain stable
  fi
fi
cargo --version

# The grader, built where CARGO_TARGET_DIR says (a cache), kept in bin/.
cd "$source"
cargo build --release --locked --quiet -p grader
built="${CARGO_TARGET_DIR:-$source/target}/release/grader"
mkdir -p "$source/bin"
install -m 0755 "$built" "$source/bin/grader"

# The exercises' dependencies, in the template's own target directory,
# where every grading looks for them.
CARGO_TARGET_DIR="$source/target" "$source/bin/grader" prepare --workspace "$source"
echo "the autograder is ready: $source/bin/grader"
