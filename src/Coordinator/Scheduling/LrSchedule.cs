using System.Globalization;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;

namespace Plateau.Coordinator.Scheduling;

/// <summary>
/// The rate for every step of a job, composed the way the recipes describe it:
/// linear scaling (lr × globalBatch / baseBatch, Goyal et al.), then the schedule (plateau state's rate,
/// or MultiStepLR milestones, or constant), then warmup over the first steps (linear or constant).
/// Epoch plans carry the result as piecewise-linear <see cref="LrSegment"/>s.
/// </summary>
public sealed class LrSchedule
{
    private readonly ScheduleSpec _schedule;

    public LrSchedule(JobSpec spec, int globalBatch, long stepsPerEpoch)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(globalBatch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepsPerEpoch);
        _schedule = spec.Schedule;
        GlobalBatch = globalBatch;
        StepsPerEpoch = stepsPerEpoch;
        ScalingFactor = spec.Schedule.LinearScaling is { } scaling ? (double)globalBatch / scaling.BaseBatch : 1.0;
        ScaledLr = spec.Optimizer.Lr * ScalingFactor;

        if (spec.Schedule.Warmup is { } warmup)
        {
            WarmupSteps = warmup.Iterations ?? (long)Math.Round(warmup.Epochs!.Value * stepsPerEpoch, MidpointRounding.AwayFromZero);
            WarmupStartFactor = warmup.StartFactor
                ?? (spec.Schedule.LinearScaling is not null && ScalingFactor > 1 ? 1.0 / ScalingFactor : 0.1);
            WarmupKind = warmup.Kind;
        }
    }

    public int GlobalBatch { get; }

    public long StepsPerEpoch { get; }

    public double ScalingFactor { get; }

    /// <summary>The base rate after linear scaling: the plateau schedule's starting rate.</summary>
    public double ScaledLr { get; }

    public long WarmupSteps { get; }

    public double WarmupStartFactor { get; } = 1.0;

    public WarmupKind WarmupKind { get; }

    /// <summary>The scheduled rate before warmup at a step of an epoch.</summary>
    public double BaseAt(long globalStep, int epoch, double plateauLr)
    {
        if (_schedule.Steps is { } steps)
        {
            var position = steps.Unit == ScheduleUnit.Iterations ? globalStep : epoch;
            var passed = steps.Milestones.Count(m => m <= position);
            return ScaledLr * Math.Pow(steps.Gamma, passed);
        }

        return _schedule.Plateau is not null ? plateauLr : ScaledLr;
    }

    /// <summary>The rate the optimizer uses at a step.</summary>
    public double At(long globalStep, int epoch, double plateauLr) =>
        BaseAt(globalStep, epoch, plateauLr) * WarmupMultiplier(globalStep);

    public double WarmupMultiplier(long globalStep)
    {
        if (globalStep >= WarmupSteps)
        {
            return 1.0;
        }

        return WarmupKind == WarmupKind.Constant
            ? WarmupStartFactor
            : WarmupStartFactor + ((1.0 - WarmupStartFactor) * globalStep / WarmupSteps);
    }

    /// <summary>Segments covering [start, end): split where warmup ends and at iteration milestones.</summary>
    public IReadOnlyList<LrSegment> Segments(long start, long end, int epoch, double plateauLr)
    {
        if (end <= start)
        {
            return [new LrSegment(start, start + 1, At(start, epoch, plateauLr), At(start, epoch, plateauLr))];
        }

        var cuts = new SortedSet<long> { start, end };
        if (WarmupSteps > start && WarmupSteps < end)
        {
            cuts.Add(WarmupSteps);
        }

        if (_schedule.Steps is { Unit: ScheduleUnit.Iterations } steps)
        {
            foreach (var milestone in steps.Milestones.Where(m => m > start && m < end))
            {
                cuts.Add(milestone);
            }
        }

        var points = cuts.ToArray();
        var segments = new List<LrSegment>(points.Length - 1);
        for (var i = 0; i < points.Length - 1; i++)
        {
            var (a, b) = (points[i], points[i + 1]);
            var startLr = At(a, epoch, plateauLr);
            // Linear warmup is linear in the step, so the segment's end value is the formula's value at b
            // (with the base rate of a: no milestone inside the piece).
            var endLr = a < WarmupSteps && WarmupKind == WarmupKind.Linear
                ? BaseAt(a, epoch, plateauLr) * WarmupMultiplierUnclamped(b)
                : startLr;
            segments.Add(new LrSegment(a, b, startLr, endLr));
        }

        return segments;
    }

    /// <summary>Milestones of an iteration schedule inside [start, end), or the epoch milestone at the plan's epoch.</summary>
    public IEnumerable<(long Step, double OldLr, double NewLr, string Reason)> MilestonesWithin(long start, long end, int epoch, double plateauLr)
    {
        if (_schedule.Steps is not { } steps)
        {
            yield break;
        }

        foreach (var milestone in steps.Milestones)
        {
            var crossed = steps.Unit == ScheduleUnit.Iterations ? milestone >= start && milestone < end && milestone > 0 : milestone == epoch;
            if (!crossed)
            {
                continue;
            }

            var before = steps.Unit == ScheduleUnit.Iterations ? BaseAt(milestone - 1, epoch, plateauLr) : BaseAt(start, epoch - 1, plateauLr);
            var after = steps.Unit == ScheduleUnit.Iterations ? BaseAt(milestone, epoch, plateauLr) : BaseAt(start, epoch, plateauLr);
            var unit = steps.Unit == ScheduleUnit.Iterations ? "iterations" : "epochs";
            var step = steps.Unit == ScheduleUnit.Iterations ? milestone : start;
            yield return (step, before, after,
                $"milestone {milestone.ToString(CultureInfo.InvariantCulture)} {unit} reached → lr {ReduceLrOnPlateau.Lr(before)} → {ReduceLrOnPlateau.Lr(after)} (× {ReduceLrOnPlateau.Lr(steps.Gamma)})");
        }
    }

    /// <summary>How the starting rate was derived, for the job's first decision.</summary>
    public string DescribeInitial()
    {
        var text = ScalingFactor != 1.0
            ? $"lr {ReduceLrOnPlateau.Lr(ScaledLr / ScalingFactor)} × {GlobalBatch}/{(int)Math.Round(GlobalBatch / ScalingFactor)} (linear scaling) = {ReduceLrOnPlateau.Lr(ScaledLr)}"
            : $"lr {ReduceLrOnPlateau.Lr(ScaledLr)} at global batch {GlobalBatch}";
        if (WarmupSteps > 0)
        {
            text += WarmupKind == WarmupKind.Linear
                ? $"; linear warmup from {ReduceLrOnPlateau.Lr(ScaledLr * WarmupStartFactor)} over {WarmupSteps} steps"
                : $"; constant warmup at {ReduceLrOnPlateau.Lr(ScaledLr * WarmupStartFactor)} for {WarmupSteps} steps";
        }

        return text;
    }

    private double WarmupMultiplierUnclamped(long globalStep) =>
        WarmupStartFactor + ((1.0 - WarmupStartFactor) * Math.Min(globalStep, WarmupSteps) / WarmupSteps);
}
