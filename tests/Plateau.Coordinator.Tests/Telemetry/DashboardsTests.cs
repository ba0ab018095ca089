using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Plateau.Coordinator.Tests.Jobs;
using Plateau.ServiceDefaults.Telemetry;

namespace Plateau.Coordinator.Tests.Telemetry;

/// <summary>
/// The Grafana dashboards under <c>dashboards/</c>: each parses, has the job and rank variables, and every
/// metric its queries name is one the code registers (the Plateau meter, the .NET runtime's, Orleans'),
/// under the name the Prometheus exporter gives it — so renaming an instrument breaks this test, not a
/// dashboard. A running silo (the fixture) is what creates Orleans' instruments.
/// </summary>
public sealed partial class DashboardsTests(CoordinatorCluster silo) : IClassFixture<CoordinatorCluster>
{
    private static readonly string[] Dashboards = Directory.GetFiles(Path.Combine(Repository.Root, "dashboards"), "*.json");

    // PromQL words that are neither metrics nor functions.
    private static readonly HashSet<string> Keywords = ["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool", "inf", "nan"];

    public static TheoryData<string> DashboardFiles() => [.. Dashboards.Select(Path.GetFileName).OfType<string>()];

    [Fact]
    public void TheSixDashboardsAreThere()
    {
        Assert.Equal(
            ["checkpoints.json", "communication.json", "coordinator-health.json", "data-pipeline.json", "job-overview.json", "throughput.json"],
            Dashboards.Select(Path.GetFileName).Order());
    }

    [Theory]
    [MemberData(nameof(DashboardFiles))]
    public void EveryQueriedMetricIsOneTheCodeRegisters(string file)
    {
        var known = KnownSeries();
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "dashboards", file)));
        var queries = Queries(dashboard.RootElement).ToList();
        Assert.NotEmpty(queries);
        foreach (var query in queries)
        {
            var metrics = MetricNames(query).ToList();
            Assert.True(metrics.Count > 0, $"{file}: query names no metric: {query}");
            foreach (var metric in metrics)
            {
                Assert.True(known.Contains(metric), $"{file}: '{metric}' is not a metric the code registers (query: {query})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(DashboardFiles))]
    public void EveryDashboardHasJobAndRankVariablesAndAUniqueUid(string file)
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "dashboards", file)));
        var root = dashboard.RootElement;
        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("name").GetString()).ToList();
        Assert.Contains("job", variables);
        if (file != "job-overview.json" && file != "coordinator-health.json")
        {
            Assert.Contains("rank", variables);
        }

        var uids = Dashboards.Select(f =>
        {
            using var other = JsonDocument.Parse(File.ReadAllText(f));
            return other.RootElement.GetProperty("uid").GetString();
        }).ToList();
        Assert.Equal(uids.Count, uids.Distinct().Count());
        Assert.All(root.GetProperty("panels").EnumerateArray(), panel => Assert.False(string.IsNullOrEmpty(panel.GetProperty("title").GetString())));
    }

    [Fact]
    public void TheNameCheckRejectsAMetricNobodyRegisters()
    {
        var known = KnownSeries();
        var names = MetricNames("sum by (rank) (rate(plateau_train_imgs_total{job_id=\"$job\"}[5m]))").ToList();

        Assert.Equal(["plateau_train_imgs_total"], names);
        Assert.DoesNotContain(names[0], known);
        Assert.Contains("plateau_train_images_total", known);
        Assert.Contains("plateau_train_step_duration_seconds_bucket", known);
    }

    [Fact]
    public void PerRankPanelsFilterByTheJobAndRankVariables()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "dashboards", "throughput.json")));
        var straggler = dashboard.RootElement.GetProperty("panels").EnumerateArray().Single(p => p.GetProperty("title").GetString()!.StartsWith("Straggler ratio: rank images/s", StringComparison.Ordinal));
        var expr = straggler.GetProperty("targets")[0].GetProperty("expr").GetString()!;
        Assert.Contains("plateau_train_images_per_second{job_id=\"$job\",rank=~\"$rank\"}", expr, StringComparison.Ordinal);
        Assert.Contains("quantile(0.5, plateau_train_images_per_second{job_id=\"$job\"})", expr, StringComparison.Ordinal);
    }

    [Fact]
    public void DocsTelemetryListsEveryPlateauInstrumentWithItsPrometheusName()
    {
        var docs = File.ReadAllText(Path.Combine(Repository.Root, "docs", "telemetry.md"));
        Assert.All(RegisteredInstruments.Of(PlateauMetrics.MeterName), instrument =>
            Assert.Contains($"| `{instrument.Name}` | `{PlateauMetrics.PrometheusName(instrument)}` |", docs, StringComparison.Ordinal));
    }

    /// <summary>Every series name a scrape can hold: each instrument's Prometheus name, histograms with their three series.</summary>
    private HashSet<string> KnownSeries()
    {
        Assert.NotNull(silo.Cluster);
        var names = new HashSet<string>();
        foreach (var instrument in RegisteredInstruments.Of(PlateauMetrics.MeterName, RegisteredInstruments.RuntimeMeterName, "Microsoft.Orleans"))
        {
            var name = PlateauMetrics.PrometheusName(instrument);
            if (PlateauMetrics.IsHistogram(instrument))
            {
                names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
            }
            else
            {
                names.Add(name);
            }
        }

        return names;
    }

    private static IEnumerable<string> Queries(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        yield return property.Value.GetString()!;
                    }
                    else if (property.Name == "query" && property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("query", out var q))
                    {
                        yield return q.GetString()!;
                    }
                    else
                    {
                        foreach (var inner in Queries(property.Value))
                        {
                            yield return inner;
                        }
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var inner in Queries(item))
                    {
                        yield return inner;
                    }
                }

                break;
        }
    }

    /// <summary>The metric names in a PromQL expression: identifiers left once strings, label matchers,
    /// ranges, grouping lists, function names, keywords and numbers are taken out.</summary>
    private static IEnumerable<string> MetricNames(string promQl)
    {
        var text = StringLiteral().Replace(promQl, "\"\"");
        text = Braces().Replace(text, " ");
        text = Brackets().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        text = Regex.Replace(text, @"label_values\(([^,()]*),[^)]*\)", "$1");
        foreach (Match token in Identifier().Matches(text))
        {
            var rest = text[(token.Index + token.Length)..].TrimStart();
            if (rest.StartsWith('(') || Keywords.Contains(token.Value) || token.Value.StartsWith('$'))
            {
                continue;
            }

            yield return token.Value;
        }
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Brackets();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex Identifier();
}
