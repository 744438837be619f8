//! The README stays true: every embedded example equals the file that
//! `scripts/readme-examples` generates (itself checked against the binary by
//! tests/status_examples.rs), and the exit-code table lists exactly the
//! codes of `error::Exit::TABLE`.

#[test]
fn readme_examples_match_generated_files() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .unwrap_or_default();
    let mut checked = 0;
    for (i, _) in readme.match_indices("<!-- example: ") {
        let rest = &readme[i + "<!-- example: ".len()..];
        let file = rest.split(" -->").next().unwrap_or_default();
        let block = rest.split("```\n").nth(1).unwrap_or_default();
        let want = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_default();
        assert_eq!(
            block.trim_end(),
            want.trim_end(),
            "README block for {file} drifted; run scripts/readme-examples and update README.md"
        );
        checked += 1;
    }
    assert!(checked >= 2, "README should embed the generated examples");
}

#[test]
fn readme_exit_codes_match_the_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .unwrap_or_default();
    let section = readme.split("## Exit codes").nth(1).unwrap_or_default();
    let codes: Vec<u8> = section
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| l.strip_prefix("| ")?.split(' ').next()?.parse().ok())
        .collect();
    let want: Vec<u8> = kubectl_sts::error::Exit::TABLE
        .iter()
        .map(|(c, _)| *c)
        .collect();
    assert_eq!(codes, want);
}
