using System.Diagnostics;
using Plateau.ServiceDefaults.Telemetry;

namespace Plateau.Worker.Training;

/// <summary>
/// One rank's share of the <c>Plateau</c> meter: per-step timings and all-reduce figures as each step
/// ends, the progress window's rates as the reporter takes them. Tags: job id, rank, host.
/// </summary>
public sealed class RankTelemetry(string jobId, int rank, int worldSize, long gradientBytes)
{
    private readonly TagList _tags = PlateauMetrics.RankTags(jobId, rank, Environment.MachineName);

    public TagList Tags => _tags;

    /// <summary>NCCL's bus-bandwidth factor for ring all-reduce: each byte crosses 2(n−1)/n links.</summary>
    public static double BusFactor(int worldSize) => worldSize > 1 ? 2.0 * (worldSize - 1) / worldSize : 0;

    public void Step(StepOutcome outcome, TimeSpan dataWait, long globalStep, double learningRate, int epoch, long epochSamples)
    {
        var tags = _tags;
        var allReduce = outcome.AllReduce.TotalSeconds;
        PlateauMetrics.Steps.Add(1, tags);
        PlateauMetrics.Images.Add(outcome.Samples, tags);
        PlateauMetrics.StepDuration.Record(dataWait.TotalSeconds + outcome.Compute.TotalSeconds + allReduce + outcome.Update.TotalSeconds, tags);
        PlateauMetrics.DataWaitDuration.Record(dataWait.TotalSeconds, tags);
        PlateauMetrics.ComputeDuration.Record(outcome.Compute.TotalSeconds, tags);
        PlateauMetrics.ForwardDuration.Record(outcome.Forward.TotalSeconds, tags);
        PlateauMetrics.BackwardDuration.Record(outcome.Backward.TotalSeconds, tags);
        PlateauMetrics.OptimizerDuration.Record(outcome.Update.TotalSeconds, tags);
        PlateauMetrics.AllReduceDuration.Record(allReduce, tags);
        PlateauMetrics.AllReduceWaitDuration.Record(outcome.CollectiveWait.TotalSeconds, tags);
        PlateauMetrics.AllReduceBytes.Add(gradientBytes, tags);
        if (allReduce > 0 && worldSize > 1)
        {
            PlateauMetrics.AllReduceBusBandwidth.Record(gradientBytes / allReduce * BusFactor(worldSize), tags);
        }

        PlateauMetrics.LearningRate.Record(learningRate, tags);
        PlateauMetrics.GlobalStep.Record(globalStep, tags);
        PlateauMetrics.Epoch.Record(epoch, tags);
        PlateauMetrics.EpochSamples.Record(epochSamples, tags);
    }

    /// <summary>A step every rank skipped: its averaged gradients were not finite.</summary>
    public void Skipped() => PlateauMetrics.SkippedSteps.Add(1, _tags);

    /// <summary>The reporter's window: images/s, mean loss and the time shares.</summary>
    public void Window(ProgressSnapshot snapshot)
    {
        var tags = _tags;
        PlateauMetrics.ImagesPerSecond.Record(snapshot.ImagesPerSecond, tags);
        if (!double.IsNaN(snapshot.Loss))
        {
            PlateauMetrics.Loss.Record(snapshot.Loss, tags);
        }

        PlateauMetrics.DataWaitShare.Record(snapshot.DataWaitShare, tags);
        PlateauMetrics.AllReduceShare.Record(snapshot.AllReduceShare, tags);
    }
}
