using System.Globalization;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;

namespace Plateau.Coordinator.Scheduling;

/// <summary>
/// torch.optim.lr_scheduler.ReduceLROnPlateau, step for step: same comparison (mode, threshold,
/// threshold mode), same counters (patience, cooldown) and the same min-lr / eps rule. Pure: the state
/// goes in and comes out, so it persists with the job and travels in checkpoints.
/// </summary>
public static class ReduceLrOnPlateau
{
    public static PlateauSchedulerState Initial(double lr) => new() { Lr = lr };

    /// <summary>One evaluation's metric. Returns the new state and, when the rate dropped, why.</summary>
    public static PlateauStep Step(PlateauScheduleSpec spec, PlateauSchedulerState state, double metric, int epoch)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(state);
        var mode = spec.Mode ?? PlateauMetricInfo.NaturalMode(spec.Metric);
        var bestBefore = state.Best;
        var best = state.Best;
        var bestEpoch = state.BestEpoch;
        var bad = state.NumBadEpochs;
        var cooldown = state.CooldownCounter;

        if (IsBetter(metric, best ?? Worse(mode), mode, spec.ThresholdMode, spec.Threshold))
        {
            best = metric;
            bestEpoch = epoch;
            bad = 0;
        }
        else
        {
            bad++;
        }

        if (cooldown > 0)
        {
            cooldown--;
            bad = 0; // bad epochs during cooldown are ignored
        }

        var lr = state.Lr;
        string? reason = null;
        if (bad > spec.Patience)
        {
            var reduced = Math.Max(lr * spec.Factor, spec.MinLr);
            if (lr - reduced > spec.Eps)
            {
                var clamp = reduced == spec.MinLr && lr * spec.Factor < spec.MinLr ? " (min lr)" : "";
                reason = $"{PlateauMetricInfo.Describe(spec.Metric)} {Format(spec.Metric, metric)} did not improve on " +
                         $"{Format(spec.Metric, bestBefore ?? best ?? metric)} for {bad} evaluation{(bad == 1 ? "" : "s")} (patience {spec.Patience}) " +
                         $"→ lr {Lr(lr)} → {Lr(reduced)}{clamp}";
                lr = reduced;
            }

            cooldown = spec.Cooldown;
            bad = 0;
        }

        var next = new PlateauSchedulerState
        {
            Best = best,
            BestEpoch = bestEpoch,
            NumBadEpochs = bad,
            CooldownCounter = cooldown,
            Lr = lr,
            Steps = state.Steps + 1,
        };
        return new PlateauStep(next, state.Lr, lr, reason);
    }

    /// <summary>PyTorch's is_better against mode_worse (±inf) before the first step.</summary>
    public static bool IsBetter(double current, double best, PlateauMode mode, ThresholdMode thresholdMode, double threshold) =>
        (mode, thresholdMode) switch
        {
            (PlateauMode.Min, ThresholdMode.Rel) => current < best * (1.0 - threshold),
            (PlateauMode.Min, ThresholdMode.Abs) => current < best - threshold,
            (PlateauMode.Max, ThresholdMode.Rel) => current > best * (threshold + 1.0),
            _ => current > best + threshold,
        };

    private static double Worse(PlateauMode mode) => mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;

    internal static string Format(PlateauMetric metric, double value) =>
        PlateauMetricInfo.IsPercentage(metric)
            ? (value * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%"
            : value.ToString("0.0000", CultureInfo.InvariantCulture);

    internal static string Lr(double lr) => lr.ToString("G6", CultureInfo.InvariantCulture);
}
