using System.Globalization;
using System.Net;
using System.Text;
using Proto = Plateau.Protos.V1;

namespace Plateau.Cli.Reports;

/// <summary>
/// One self-contained HTML page about a job (no script, no external resource: it opens offline): loss
/// and error per epoch, the learning rate with every decision annotated (its reason in the table), the
/// job's and each rank's images/s per epoch, and a timeline of phase changes, checkpoints, failures and restarts.
/// </summary>
public static class RunReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Render(Proto.Job job, IReadOnlyList<Proto.JobEvent> events)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(events);
        var metrics = job.MetricsHistory.OrderBy(m => m.Epoch).ToList();
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append(Invariant, $"<title>Plateau run report: {E(job.JobId)}</title><style>{Style}</style></head><body>");
        html.Append(Invariant, $"<h1>Plateau run report: {E(job.JobId)}</h1>");
        html.Append(Invariant, $"<p class=\"summary\"><b>{E(Phase(job.Phase))}</b>: {E(job.PhaseReason)}</p>");
        html.Append(Invariant, $"<p class=\"facts\">epochs {metrics.Count} of {job.TotalEpochs} · global step {job.GlobalStep} · generation {job.Generation} · {job.Restarts} restart(s) · world size {job.WorldSize} · created {Time(job.CreatedAt)} · updated {Time(job.UpdatedAt)}</p>");

        var loss = new SvgChart("Loss per epoch", "epoch", "loss")
            .Series("train loss", metrics.Select(m => ((double)m.Epoch, m.TrainLoss)))
            .Series("val loss", metrics.Where(m => m.HasValLoss).Select(m => ((double)m.Epoch, m.ValLoss)));
        var error = new SvgChart("Error per epoch", "epoch", "error %") { FormatY = y => y.ToString("0.#", Invariant) + "%" }
            .Series("train top-1", metrics.Select(m => ((double)m.Epoch, m.TrainTop1Error * 100)))
            .Series("val top-1", metrics.Where(m => m.HasValTop1Error).Select(m => ((double)m.Epoch, m.ValTop1Error * 100)))
            .Series("val top-5", metrics.Where(m => m.HasValTop5Error).Select(m => ((double)m.Epoch, m.ValTop5Error * 100)));
        var lr = new SvgChart("Learning rate (each decision annotated)", "epoch", "learning rate (log)") { LogY = true }
            .Series("lr", metrics.Select(m => ((double)m.Epoch, m.LearningRate)));
        foreach (var decision in job.LrDecisions.Where(d => d.Kind != "initial"))
        {
            lr.Annotate(decision.Epoch, string.Create(Invariant, $"{decision.Kind}: lr {decision.OldLr:G3} → {decision.NewLr:G3}"));
        }

        var throughput = new SvgChart("Images/s per epoch, all ranks (train samples ÷ epoch wall time, evaluation included)", "epoch", "images/s")
            .Series("images/s", Throughput(job, metrics));
        var perRank = new SvgChart("Images/s per rank (its samples ÷ its training wall time)", "epoch", "images/s");
        var ranks = metrics.Count == 0 ? 0 : metrics.Max(m => m.RankImagesPerSecond.Count);
        for (var rank = 0; rank < ranks; rank++)
        {
            var r = rank;
            perRank.Series($"rank {r}", metrics.Where(m => r < m.RankImagesPerSecond.Count && m.RankImagesPerSecond[r] > 0).Select(m => ((double)m.Epoch, m.RankImagesPerSecond[r])));
        }

        html.Append("<section class=\"charts\">");
        foreach (var chart in new[] { loss, error, lr, throughput, perRank })
        {
            html.Append("<figure>").Append(chart.Render()).Append("</figure>");
        }

        html.Append("</section><h2>Timeline</h2>").Append(Timeline(job, events));
        html.Append("<h2>Learning-rate decisions</h2><table><tr><th>epoch</th><th>step</th><th>kind</th><th>lr</th><th>reason</th></tr>");
        foreach (var d in job.LrDecisions)
        {
            html.Append(Invariant, $"<tr class=\"decision\"><td>{d.Epoch}</td><td>{d.GlobalStep}</td><td>{E(d.Kind)}</td><td>{d.OldLr:G3} → {d.NewLr:G3}</td><td>{E(d.Reason)}</td></tr>");
        }

        html.Append("</table>");
        if (job.ScheduleUpdates.Count > 0)
        {
            html.Append("<h2>Schedule changes by operators</h2><table><tr><th>at</th><th>operator</th><th>change</th><th>reason</th></tr>");
            foreach (var u in job.ScheduleUpdates)
            {
                html.Append(Invariant, $"<tr class=\"schedule-update\"><td>{Time(u.At)}</td><td>{E(u.Operator)}</td><td>{E(Describe(u))}</td><td>{E(u.Reason)}</td></tr>");
            }

            html.Append("</table>");
        }

        html.Append("<h2>Epochs</h2><table><tr><th>epoch</th><th>step</th><th>train loss</th><th>train top-1</th><th>val top-1</th><th>val top-5</th><th>val loss</th><th>lr</th><th>at</th></tr>");
        foreach (var m in metrics)
        {
            html.Append(Invariant, $"<tr><td>{m.Epoch}</td><td>{m.GlobalStep}</td><td>{m.TrainLoss:0.0000}</td><td>{m.TrainTop1Error * 100:0.00}%</td><td>{(m.HasValTop1Error ? (m.ValTop1Error * 100).ToString("0.00", Invariant) + "%" : "-")}</td><td>{(m.HasValTop5Error ? (m.ValTop5Error * 100).ToString("0.00", Invariant) + "%" : "-")}</td><td>{(m.HasValLoss ? m.ValLoss.ToString("0.0000", Invariant) : "-")}</td><td>{m.LearningRate:G3}</td><td>{Time(m.At)}</td></tr>");
        }

        html.Append("</table><h2>Checkpoints, failures and phase changes</h2><table><tr><th>at</th><th>generation</th><th>kind</th><th>event</th></tr>");
        foreach (var e in events.Where(e => e.Type is Proto.EventType.CheckpointCommitted or Proto.EventType.Failure or Proto.EventType.Transition or Proto.EventType.GroupFormed))
        {
            html.Append(Invariant, $"<tr class=\"{E(e.Kind)}\"><td>{Time(e.At)}</td><td>{e.Generation}</td><td>{E(e.Kind)}</td><td>{E(e.Message)}</td></tr>");
        }

        html.Append("</table><p class=\"note\">Per-step timings, all-reduce and data-wait shares per rank are in the Prometheus metrics and the Grafana dashboards (docs/telemetry.md).</p></body></html>");
        return html.ToString();
    }

    private static string Describe(Proto.ScheduleUpdate u)
    {
        var parts = new List<string>();
        if (u.HasPatience)
        {
            parts.Add(string.Create(Invariant, $"patience {u.Patience}"));
        }

        if (u.HasFactor)
        {
            parts.Add(string.Create(Invariant, $"factor {u.Factor:G3}"));
        }

        if (u.HasThreshold)
        {
            parts.Add(string.Create(Invariant, $"threshold {u.Threshold:G3}"));
        }

        if (u.DropNow)
        {
            parts.Add("drop the rate at the next epoch");
        }

        return string.Join(", ", parts);
    }

    /// <summary>Epoch i's images/s: its train samples over the time since the previous epoch ended (the first: since the group started running).</summary>
    private static IEnumerable<(double, double)> Throughput(Proto.Job job, List<Proto.EpochMetrics> metrics)
    {
        for (var i = 0; i < metrics.Count; i++)
        {
            var end = metrics[i].At.ToDateTimeOffset();
            DateTimeOffset? start = i > 0
                ? metrics[i - 1].At.ToDateTimeOffset()
                : job.Transitions.Where(t => t.To == Proto.JobPhase.Running && t.At.ToDateTimeOffset() < end).Select(t => (DateTimeOffset?)t.At.ToDateTimeOffset()).LastOrDefault();
            if (start is { } from && end > from)
            {
                yield return (metrics[i].Epoch, metrics[i].TrainSamples / (end - from).TotalSeconds);
            }
        }
    }

    /// <summary>Minutes since the job was created, one lane per kind of event.</summary>
    private static string Timeline(Proto.Job job, IReadOnlyList<Proto.JobEvent> events)
    {
        string[] lanes = ["transition", "group_formed", "lr_decision", "checkpoint_committed", "failure"];
        var shown = events.Where(e => lanes.Contains(e.Kind)).ToList();
        const int width = 760;
        const int left = 150;
        const int lane = 28;
        var height = 30 + (lanes.Length * lane);
        var svg = new StringBuilder();
        svg.Append(Invariant, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">");
        var origin = job.CreatedAt?.ToDateTimeOffset() ?? (shown.Count > 0 ? shown.Min(e => e.At.ToDateTimeOffset()) : DateTimeOffset.UnixEpoch);
        var spanMinutes = Math.Max(1e-3, shown.Count > 0 ? shown.Max(e => (e.At.ToDateTimeOffset() - origin).TotalMinutes) : 1);
        for (var l = 0; l < lanes.Length; l++)
        {
            var y = 20 + (l * lane);
            svg.Append(Invariant, $"<text x=\"4\" y=\"{y + 4}\" class=\"tick\">{lanes[l].Replace('_', ' ')}</text>");
            svg.Append(Invariant, $"<line x1=\"{left}\" y1=\"{y}\" x2=\"{width - 20}\" y2=\"{y}\" class=\"grid\"/>");
        }

        foreach (var e in shown)
        {
            var x = left + ((e.At.ToDateTimeOffset() - origin).TotalMinutes / spanMinutes * (width - left - 30));
            var y = 20 + (Array.IndexOf(lanes, e.Kind) * lane);
            svg.Append(Invariant, $"<circle class=\"event {E(e.Kind)}\" cx=\"{x:0.##}\" cy=\"{y}\" r=\"5\"><title>{Time(e.At)}: {E(e.Message)}</title></circle>");
        }

        svg.Append(Invariant, $"<text x=\"{left}\" y=\"{height - 4}\" class=\"tick\">0 min</text><text x=\"{width - 20}\" y=\"{height - 4}\" text-anchor=\"end\" class=\"tick\">{spanMinutes:0.##} min after submission</text></svg>");
        return svg.ToString();
    }

    private static string Phase(Proto.JobPhase phase) => phase.ToString().Replace("JOB_PHASE_", "", StringComparison.Ordinal).ToLowerInvariant();

    private static string Time(Google.Protobuf.WellKnownTypes.Timestamp? at) =>
        at is null ? "-" : at.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", Invariant);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private const string Style =
        "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1600px}" +
        ".charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;border:1px solid #ddd;padding:4px}" +
        "table{border-collapse:collapse;margin-bottom:16px}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}" +
        ".title{font-size:14px;font-weight:600}.tick,.legend{font-size:11px;fill:#444}.label{font-size:12px;fill:#333}" +
        ".axis{stroke:#333}.grid{stroke:#eee}.annotation-line{stroke:#b00;stroke-dasharray:4 3}.annotation{font-size:11px;fill:#b00}" +
        ".event{fill:#1f77b4}.event.failure{fill:#d62728}.event.checkpoint_committed{fill:#2ca02c}.event.lr_decision{fill:#ff7f0e}" +
        ".empty{fill:#999}.note{color:#666;font-size:13px}";
}
