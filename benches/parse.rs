//! Parser benchmark: a generated 10,000-request `.http` file (~2 MB: titles, metadata,
//! variables, headers with templates, JSON bodies, assertions). Target: under 5 ms.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use httplens::syntax::{parse, parse_markdown};

/// A realistic file of `n` requests.
fn big_file(n: usize) -> String {
    let mut s = String::from("@host = https://api.example.com\n@token = secret-token\n\n");
    for i in 0..n {
        let _ = write!(
            s,
            "### Create item {i}\n\
             # @name create{i}\n\
             @itemId = {i}\n\
             POST {{{{host}}}}/v1/items/{{{{itemId}}}}?expand=tags&page={i} HTTP/1.1\n\
             Content-Type: application/json\n\
             Accept: application/json\n\
             Authorization: Bearer {{{{token}}}}\n\
             X-Request-Id: {{{{$guid}}}}\n\
             \n\
             {{\n  \"id\": {i},\n  \"name\": \"item number {i}\",\n  \"owner\": \"{{{{create{prev}.response.body.$.owner}}}}\",\n  \"tags\": [\"alpha\", \"beta\", \"gamma\"],\n  \"price\": {i}.99,\n  \"active\": true\n}}\n\
             \n\
             ?? status == 201\n\
             \n",
            prev = i.saturating_sub(1)
        );
    }
    s
}

fn benches(c: &mut Criterion) {
    let text = big_file(10_000);
    let md = format!("# Docs\n\n```http\n{text}\n```\n");
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("10k requests", |b| {
        b.iter(|| black_box(parse(black_box(&text))))
    });
    g.bench_function("10k requests in markdown", |b| {
        b.iter(|| black_box(parse_markdown(black_box(&md))))
    });
    g.finish();
}

criterion_group!(parse_benches, benches);
criterion_main!(parse_benches);
