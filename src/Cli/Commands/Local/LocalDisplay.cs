using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Proto = Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Local;

/// <summary>Live progress (Spectre.Console status on a terminal, plain lines otherwise) and the final summary.</summary>
internal sealed class LocalDisplay(TextWriter output, bool plain)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly Lock _lock = new();
    private readonly Stopwatch _sinceLine = Stopwatch.StartNew();
    private int _totalEpochs;
    private double? _valError;
    private double _lr;
    private bool _live;
    private string? _lastPhase;

    public void Snapshot(Proto.Job job)
    {
        _totalEpochs = job.TotalEpochs;
        _lr = job.LearningRate;
        if (job.LatestMetrics?.HasValTop1Error == true)
        {
            _valError = job.LatestMetrics.ValTop1Error;
        }

        // A watch that reconnects (the coordinator restarted) gets the snapshot again: say it once.
        var phase = $"phase {Phase(job.Phase)}: {job.PhaseReason}";
        if (phase != _lastPhase)
        {
            _lastPhase = phase;
            Line(phase);
        }
    }

    public void Event(Proto.JobEvent e)
    {
        switch (e.Type)
        {
            case Proto.EventType.LrDecision:
                Line($"LR  {e.Message}", "yellow");
                break;
            case Proto.EventType.EpochMetrics:
                Line($"    {e.Message}", "green");
                if (e.EpochMetrics is { HasValTop1Error: true } metrics)
                {
                    _valError = metrics.ValTop1Error;
                }

                break;
            case Proto.EventType.Failure:
                Line($"!!  {e.Message}", "red");
                break;
            case Proto.EventType.Transition:
                Line($"    {e.Message}", "blue");
                break;
            default:
                Line($"    {e.Message}");
                break;
        }
    }

    public void Progress(Proto.Progress p)
    {
        _lr = p.LearningRate;
        if (!plain && _sinceLine.Elapsed < TimeSpan.FromMilliseconds(500))
        {
            return;
        }

        if (plain && _sinceLine.Elapsed < TimeSpan.FromSeconds(10))
        {
            return;
        }

        var inEpoch = p.StepsInEpoch > 0 ? (double)(p.GlobalStep - (p.Epoch * p.StepsInEpoch)) / p.StepsInEpoch : 0;
        inEpoch = Math.Clamp(inEpoch, 0, 1);
        const int width = 24;
        var filled = (int)Math.Round(inEpoch * width);
        var bar = new string('#', filled) + new string('.', width - filled);
        var text = string.Create(Invariant,
            $"epoch {p.Epoch + 1}/{_totalEpochs} [{bar}] {inEpoch * 100,3:0}%  step {p.GlobalStep}  {p.ImagesPerSecond,6:0} img/s  loss {(double.IsNaN(p.Loss) ? "-" : p.Loss.ToString("0.000", Invariant))}  val err {(_valError is { } v ? (v * 100).ToString("0.0", Invariant) + "%" : "-")}  lr {p.LearningRate:G3}  data {p.DataWaitShare * 100:0}%  all-reduce {p.AllReduceShare * 100:0}%");
        lock (_lock)
        {
            if (plain)
            {
                output.WriteLine(text);
            }
            else
            {
                output.Write("\r" + text.PadRight(Math.Max(text.Length, Console.WindowWidth - 1))[..Math.Max(1, Math.Min(text.Length, Console.WindowWidth - 1))]);
                _live = true;
            }
        }

        _sinceLine.Restart();
    }

    /// <summary>What the process supervisor did (a worker died, was started again); called from its threads.</summary>
    public void Supervisor(string text) => Line($"!!  {text}", "red");

    public void Summary(Proto.Job job, TimeSpan wall, string checkpoints, string logs, int workerRestarts, int coordinatorRestarts)
    {
        EndLive();
        output.WriteLine();
        output.WriteLine($"job {job.JobId}: {Phase(job.Phase)} — {job.PhaseReason}");
        var last = job.MetricsHistory.LastOrDefault(m => m.HasValTop1Error);
        var best = job.MetricsHistory.Where(m => m.HasValTop1Error).OrderBy(m => m.ValTop1Error).FirstOrDefault();
        if (last is not null)
        {
            output.WriteLine(string.Create(Invariant,
                $"final val top-1 error {last.ValTop1Error * 100:0.00}% (top-5 {last.ValTop5Error * 100:0.00}%, {last.ValSamples} images) after epoch {last.Epoch + 1}; best {best!.ValTop1Error * 100:0.00}% (epoch {best.Epoch + 1})"));
        }

        output.WriteLine("learning-rate decisions:");
        foreach (var decision in job.LrDecisions)
        {
            output.WriteLine(string.Create(Invariant, $"  epoch {decision.Epoch,3}, step {decision.GlobalStep,6} [{decision.Kind}] {decision.Reason}"));
        }

        output.WriteLine(string.Create(Invariant, $"wall time {wall:h\\:mm\\:ss}; generation {job.Generation}, {job.Restarts} job restart(s), {workerRestarts} worker process restart(s), {coordinatorRestarts} coordinator restart(s)"));
        if (job.LatestCheckpoint is { } checkpoint && !string.IsNullOrEmpty(checkpoint.CheckpointId))
        {
            output.WriteLine($"checkpoints: {checkpoints} (latest {checkpoint.CheckpointId}, epoch {checkpoint.Epoch})");
        }

        output.WriteLine($"logs: {logs}");
    }

    private void Line(string text, string? colour = null)
    {
        lock (_lock)
        {
            EndLive();
            if (plain || colour is null)
            {
                output.WriteLine(text);
            }
            else
            {
                AnsiConsole.MarkupLine($"[{colour}]{Markup.Escape(text)}[/]");
            }
        }
    }

    private void EndLive()
    {
        if (_live)
        {
            output.WriteLine();
            _live = false;
        }
    }

    private static string Phase(Proto.JobPhase phase) => phase.ToString().Replace("JOB_PHASE_", "", StringComparison.Ordinal).ToLowerInvariant();
}
