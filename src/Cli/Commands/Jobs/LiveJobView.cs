using System.Globalization;
using Plateau.Protos.V1;
using Spectre.Console;
using Spectre.Console.Rendering;
using Progress = Plateau.Protos.V1.Progress;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>
/// What <c>watch</c> draws on a terminal (Spectre.Console live display): the job's phase and position, a
/// bar for the current epoch, a bar per rank scaled to the fastest rank's images/s in the last measured
/// epoch, and the last <see cref="LogLines"/> events scrolling below. Not a terminal: plain lines instead.
/// </summary>
public sealed class LiveJobView
{
    public const int LogLines = 12;
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly Queue<string> _log = new();
    private Job? _job;
    private Progress? _progress;

    public void Snapshot(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        _job = job;
        Log(JobFormat.Snapshot(job));
    }

    public void Event(JobEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        Log(JobFormat.Event(e));
    }

    public void Progress(Progress p) => _progress = p;

    /// <summary>A newer state of the job (its latest metrics carry each rank's images/s), without a log line.</summary>
    public void Update(Job job) => _job = job ?? throw new ArgumentNullException(nameof(job));

    public IRenderable Render()
    {
        var rows = new List<IRenderable>();
        if (_job is { } job)
        {
            rows.Add(new Markup($"[bold]{Markup.Escape(job.JobId)}[/]  {Markup.Escape(JobFormat.Phase(job.Phase))}  generation {job.Generation}  world size {job.WorldSize}"));
        }

        if (_progress is { } p)
        {
            var share = p.StepsInEpoch > 0 ? Math.Clamp((double)(p.GlobalStep - (p.Epoch * p.StepsInEpoch)) / p.StepsInEpoch, 0, 1) : 0;
            rows.Add(new BreakdownChart().Width(60).HideTags()
                .AddItem("done", Math.Round(share * 100, 1), Color.Green)
                .AddItem("left", Math.Round((1 - share) * 100, 1), Color.Grey));
            rows.Add(new Text(string.Create(Invariant,
                $"epoch {p.Epoch + 1}/{_job?.TotalEpochs ?? 0} {share * 100:0}%  step {p.GlobalStep}  {p.ImagesPerSecond:0} img/s  loss {p.Loss:0.000}  lr {p.LearningRate:G3}  data wait {p.DataWaitShare * 100:0}%  all-reduce {p.AllReduceShare * 100:0}%")));
        }

        if (_job?.LatestMetrics is { RankImagesPerSecond.Count: > 0 } metrics)
        {
            var ranks = new BarChart().Width(60).Label(string.Create(Invariant, $"images/s per rank (epoch {metrics.Epoch + 1})"));
            for (var rank = 0; rank < metrics.RankImagesPerSecond.Count; rank++)
            {
                ranks.AddItem(string.Create(Invariant, $"rank {rank}"), Math.Round(metrics.RankImagesPerSecond[rank], 1), Color.Blue);
            }

            rows.Add(ranks);
        }

        rows.Add(new Rule("events") { Justification = Justify.Left });
        rows.AddRange(_log.Select(line => new Text(line)));
        return new Rows(rows);
    }

    private void Log(string line)
    {
        _log.Enqueue(line);
        while (_log.Count > LogLines)
        {
            _log.Dequeue();
        }
    }
}
