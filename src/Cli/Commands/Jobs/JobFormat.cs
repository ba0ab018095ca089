using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>How jobs, events and progress read on a terminal (times in UTC, rates in %).</summary>
public static class JobFormat
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Phase(JobPhase phase) => phase == JobPhase.Unspecified ? "Unknown" : phase.ToString();

    public static bool IsTerminal(JobPhase phase) => phase is JobPhase.Completed or JobPhase.Failed or JobPhase.Cancelled;

    /// <summary>The header of <c>list</c> and one row per job.</summary>
    public static void WriteTable(IEnumerable<Job> jobs, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine($"{"JOB",-40} {"PHASE",-10} {"EPOCH",9} {"STEP",9} {"LR",10} {"VAL TOP-1",9}  UPDATED (UTC)");
        foreach (var job in jobs)
        {
            output.WriteLine(string.Create(Invariant,
                $"{job.JobId,-40} {Phase(job.Phase),-10} {EpochOf(job),9} {job.GlobalStep,9} {job.LearningRate,10:G4} {ValTop1(job.LatestMetrics),9}  {Time(job.UpdatedAt)}"));
        }
    }

    /// <summary>Everything <c>get</c> shows: state, position, rate, metrics, LR decisions, checkpoint, transitions.</summary>
    public static void WriteDetails(Job job, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(output);
        void Line(string label, string value) => output.WriteLine($"{label,-12} {value}");

        Line("job", job.JobId);
        Line("phase", $"{Phase(job.Phase)}: {job.PhaseReason}");
        Line("generation", string.Create(Invariant, $"{job.Generation} (world size {job.WorldSize}, restarts {job.Restarts})"));
        Line("position", string.Create(Invariant, $"epoch {EpochOf(job)}, global step {job.GlobalStep}"));
        Line("lr", job.LearningRate.ToString("G6", Invariant));
        if (job.Progress is { } progress)
        {
            Line("progress", Progress(progress));
        }

        Line("last val", job.LatestMetrics is { } latest ? Metrics(latest) : "none yet");
        if (job.BestMetrics is { } best)
        {
            Line("best val", Metrics(best));
        }

        Line("created", Time(job.CreatedAt));
        Line("updated", Time(job.UpdatedAt));
        output.WriteLine();
        output.WriteLine("LR decisions");
        if (job.LrDecisions.Count == 0)
        {
            output.WriteLine("  none yet");
        }

        foreach (var d in job.LrDecisions)
        {
            output.WriteLine(string.Create(Invariant,
                $"  epoch {d.Epoch,4} step {d.GlobalStep,8}  {d.Kind,-12} {d.OldLr:G6} → {d.NewLr:G6}  {d.Reason}"));
        }

        output.WriteLine();
        output.WriteLine("checkpoints");
        output.WriteLine(job.LatestCheckpoint is { } c
            ? string.Create(Invariant,
                $"  latest {c.CheckpointId}: epoch {c.Epoch}, step {c.GlobalStep}, cursor {c.Cursor}, generation {c.Generation}, {Size(c.SizeBytes)}, sha256 {Short(c.Sha256)}, committed {Time(c.CommittedAt)}")
            : "  none committed yet");
        output.WriteLine();
        output.WriteLine("transitions");
        foreach (var t in job.Transitions)
        {
            output.WriteLine(string.Create(Invariant, $"  {Time(t.At)}  {Phase(t.From)} → {Phase(t.To)} (generation {t.Generation}): {t.Reason}"));
        }
    }

    /// <summary>One line per stream update of <c>watch</c>.</summary>
    public static string Event(JobEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return string.Create(Invariant, $"{Clock(e.At)}  {e.Kind,-20} {e.Message}");
    }

    public static string ProgressLine(Progress p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return $"{Clock(p.At)}  {"progress",-20} {Progress(p)}";
    }

    public static string Snapshot(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return string.Create(Invariant,
            $"job {job.JobId}: {Phase(job.Phase)} (generation {job.Generation}, epoch {EpochOf(job)}, step {job.GlobalStep}, lr {job.LearningRate:G6}): {job.PhaseReason}");
    }

    private static string Progress(Progress p) => string.Create(Invariant,
        $"epoch {p.Epoch} step {p.GlobalStep} ({p.StepsInEpoch} in epoch)  loss {p.Loss:F4}  lr {p.LearningRate:G6}  {p.ImagesPerSecond:F1} img/s  data wait {p.DataWaitShare:P0}  all-reduce {p.AllReduceShare:P0}");

    private static string Metrics(EpochMetrics m)
    {
        var val = m.HasValTop1Error
            ? string.Create(Invariant, $"top-1 error {m.ValTop1Error:P2}") +
              (m.HasValTop5Error ? string.Create(Invariant, $", top-5 error {m.ValTop5Error:P2}") : "") +
              (m.HasValLoss ? string.Create(Invariant, $", loss {m.ValLoss:F4}") : "") +
              string.Create(Invariant, $" on {m.ValSamples} images")
            : "not evaluated";
        return string.Create(Invariant,
            $"epoch {m.Epoch} (step {m.GlobalStep}): {val}; train loss {m.TrainLoss:F4}, train top-1 error {m.TrainTop1Error:P2}, lr {m.LearningRate:G6}");
    }

    private static string ValTop1(EpochMetrics? m) =>
        m is { HasValTop1Error: true } ? m.ValTop1Error.ToString("P2", Invariant) : "-";

    private static string EpochOf(Job job) =>
        job.TotalEpochs > 0 ? string.Create(Invariant, $"{job.Epoch}/{job.TotalEpochs}") : job.Epoch.ToString(Invariant);

    private static string Time(Timestamp? at) =>
        at is null ? "-" : at.ToDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", Invariant);

    private static string Clock(Timestamp? at) =>
        at is null ? "--:--:--" : at.ToDateTimeOffset().UtcDateTime.ToString("HH:mm:ss", Invariant);

    private static string Short(string sha256) => sha256.Length > 12 ? sha256[..12] + "…" : sha256;

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(Invariant, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(Invariant, $"{bytes / (double)(1L << 20):F1} MiB"),
        >= 1L << 10 => string.Create(Invariant, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(Invariant, $"{bytes} B"),
    };
}
