//! A table of text cells with its "Download CSV": both from the same rows, so the file always
//! has what the table shows.

use leptos::prelude::*;

use super::CsvLink;

/// `header` names the CSV's columns and `labels` the table's headings, in the same order; the
/// columns at `numeric` hold numbers (aligned right).
#[component]
pub fn TextTable(
    testid: &'static str,
    file: &'static str,
    header: &'static [&'static str],
    labels: &'static [&'static str],
    #[prop(optional)] numeric: &'static [usize],
    rows: Vec<Vec<String>>,
) -> impl IntoView {
    view! {
        <CsvLink file=file.to_string() header rows=Signal::stored(rows.clone()) />
        <table data-testid=testid>
            <thead>
                <tr>
                    {labels
                        .iter()
                        .enumerate()
                        .map(|(i, label)| {
                            if numeric.contains(&i) {
                                view! { <th scope="col" class="num">{*label}</th> }.into_any()
                            } else {
                                view! { <th scope="col">{*label}</th> }.into_any()
                            }
                        })
                        .collect_view()}
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        view! {
                            <tr>
                                {row
                                    .into_iter()
                                    .enumerate()
                                    .map(|(i, cell)| {
                                        if numeric.contains(&i) {
                                            view! { <td class="num">{cell}</td> }.into_any()
                                        } else {
                                            view! { <td>{cell}</td> }.into_any()
                                        }
                                    })
                                    .collect_view()}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
