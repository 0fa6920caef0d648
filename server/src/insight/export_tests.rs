//! The overview's CSV read back with the `csv` crate gives every field as it was, whatever
//! a change idea's title holds (a `\r` broke the hand-made writer this replaced).

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use nic_proto::v1;

use super::overview_csv;

#[test]
fn overview_csv_round_trips_awkward_titles() {
    let titles = [
        "plain",
        "Number talks, daily",
        "say \"why\"",
        "two\nlines",
        "carriage\rreturn",
        "  padded  ",
        "",
    ];
    let overview = v1::NetworkOverviewResponse {
        network_id: "algebra".into(),
        change_ideas: titles
            .iter()
            .enumerate()
            .map(|(k, t)| v1::ChangeIdeaStatus {
                change_idea: format!("idea-{k}"),
                title: (*t).into(),
                sites: vec![v1::SiteStatus {
                    site_id: "lincoln".into(),
                    status: "adopted".into(),
                }],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let text = overview_csv(std::slice::from_ref(&overview));
    let mut r = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        r.headers().unwrap(),
        vec!["network", "change_idea", "title", "site", "status"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), titles.len(), "{text:?}");
    for (k, (row, title)) in rows.iter().zip(titles).enumerate() {
        let idea = format!("idea-{k}");
        assert_eq!(
            row,
            vec!["algebra", idea.as_str(), title, "lincoln", "adopted"],
            "{text:?}"
        );
    }
}
