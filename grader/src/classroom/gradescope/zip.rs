//! A zip archive, as Gradescope reads an autograder: files stored whole (no
//! compression: an autograder is small, and this needs no library), Unix
//! modes kept (its scripts must stay executable), every date 1980-01-01 so
//! that the same sources make the same archive.
//!
//! ```
//! use grader::classroom::gradescope::zip::Zip;
//! let mut zip = Zip::default();
//! zip.add("run_autograder", b"#!/bin/sh\n", 0o755)?;
//! let bytes = zip.finish();
//! assert_eq!(&bytes[..4], b"PK\x03\x04");
//! # Ok::<(), anyhow::Error>(())
//! ```

use anyhow::{Result, ensure};

/// An archive being written, in memory.
#[derive(Debug, Default)]
pub struct Zip {
    bytes: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
    names: std::collections::HashSet<String>,
}

/// 1980-01-01 00:00, in MS-DOS form: the earliest a zip can say.
const DOS_DATE: u16 = (1 << 5) | 1;
/// Names in UTF-8 (general purpose flag bit 11).
const UTF8: u16 = 1 << 11;
/// "Made by" Unix (3), version 2.0: the external attributes are a mode.
const MADE_BY_UNIX: u16 = (3 << 8) | 20;

impl Zip {
    /// Adds a file `name` (relative, `/`-separated) with `mode` (0o644,
    /// 0o755).
    pub fn add(&mut self, name: &str, data: &[u8], mode: u32) -> Result<()> {
        ensure!(
            !name.starts_with('/') && !name.split('/').any(|p| p == ".." || p.is_empty()),
            "a bad name: {name}"
        );
        ensure!(self.entries < u16::MAX, "more files than a zip of this kind holds");
        ensure!(self.names.insert(name.to_string()), "{name} twice in the archive");
        let size = u32::try_from(data.len())
            .ok()
            .filter(|s| *s < u32::MAX)
            .ok_or_else(|| anyhow::anyhow!("{name} is too large"))?;
        let offset =
            u32::try_from(self.bytes.len()).map_err(|_| anyhow::anyhow!("the archive is too large"))?;
        let crc = crc32(data);
        let name_len = u16::try_from(name.len())?;
        // The local header, then the data.
        let local: [&[u8]; 11] = [
            &0x0403_4b50u32.to_le_bytes(),
            &20u16.to_le_bytes(),
            &UTF8.to_le_bytes(),
            &0u16.to_le_bytes(), // stored
            &0u16.to_le_bytes(), // time
            &DOS_DATE.to_le_bytes(),
            &crc.to_le_bytes(),
            &size.to_le_bytes(),
            &size.to_le_bytes(),
            &name_len.to_le_bytes(),
            &0u16.to_le_bytes(), // no extra field
        ];
        local.iter().for_each(|part| self.bytes.extend_from_slice(part));
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.extend_from_slice(data);
        // Its entry in the central directory.
        let attributes = (0o100_000 | (mode & 0o777)) << 16;
        let central: [&[u8]; 17] = [
            &0x0201_4b50u32.to_le_bytes(),
            &MADE_BY_UNIX.to_le_bytes(),
            &20u16.to_le_bytes(),
            &UTF8.to_le_bytes(),
            &0u16.to_le_bytes(),
            &0u16.to_le_bytes(),
            &DOS_DATE.to_le_bytes(),
            &crc.to_le_bytes(),
            &size.to_le_bytes(),
            &size.to_le_bytes(),
            &name_len.to_le_bytes(),
            &0u16.to_le_bytes(), // extra
            &0u16.to_le_bytes(), // comment
            &0u16.to_le_bytes(), // disk
            &0u16.to_le_bytes(), // internal attributes
            &attributes.to_le_bytes(),
            &offset.to_le_bytes(),
        ];
        central.iter().for_each(|part| self.central.extend_from_slice(part));
        self.central.extend_from_slice(name.as_bytes());
        self.entries += 1;
        Ok(())
    }

    /// The archive: the files, the central directory, its end.
    pub fn finish(mut self) -> Vec<u8> {
        let offset = self.bytes.len() as u32;
        let size = self.central.len() as u32;
        self.bytes.append(&mut self.central);
        let end: [&[u8]; 8] = [
            &0x0605_4b50u32.to_le_bytes(),
            &0u16.to_le_bytes(),
            &0u16.to_le_bytes(),
            &self.entries.to_le_bytes(),
            &self.entries.to_le_bytes(),
            &size.to_le_bytes(),
            &offset.to_le_bytes(),
            &0u16.to_le_bytes(),
        ];
        end.iter().for_each(|part| self.bytes.extend_from_slice(part));
        self.bytes
    }
}

/// CRC-32 (IEEE 802.3), as zip checks each file with.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_standard_one() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn names_that_would_leave_the_directory_are_refused() {
        let mut zip = Zip::default();
        for bad in ["/etc/passwd", "../x", "a//b", "a/../../b"] {
            assert!(zip.add(bad, b"", 0o644).is_err(), "{bad}");
        }
        zip.add("setup.sh", b"", 0o755).unwrap();
        assert!(zip.add("setup.sh", b"", 0o755).is_err(), "a name twice");
    }

    /// Read back by `unzip` (Info-ZIP's, as on Gradescope's images): the
    /// files whole, the script still executable.
    #[test]
    fn unzip_reads_it_back_with_modes() {
        let mut zip = Zip::default();
        zip.add("run_autograder", b"#!/bin/sh\necho hi\n", 0o755).unwrap();
        zip.add("source/a/b.txt", "é\n".as_bytes(), 0o644).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.zip"), zip.finish()).unwrap();
        let out = std::process::Command::new("unzip")
            .args(["-q", "a.zip", "-d", "x"])
            .current_dir(dir.path())
            .output()
            .expect("unzip, to read the archive back: install it (apt-get install unzip)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        use std::os::unix::fs::PermissionsExt;
        let script = dir.path().join("x/run_autograder");
        assert_eq!(std::fs::metadata(&script).unwrap().permissions().mode() & 0o777, 0o755);
        assert_eq!(std::fs::read_to_string(dir.path().join("x/source/a/b.txt")).unwrap(), "é\n");
    }
}
