using System.Globalization;
using Microsoft.Extensions.Logging;
using Plateau.Contracts.Errors;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
using Plateau.Coordinator.Scheduling;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// Epochs and the central learning-rate schedule (invariant 4): the plan of each epoch with its LR
/// segments, the ranks' end-of-epoch reports, the epoch's metrics, the plateau metric and every LR decision.
/// Only this class changes the scheduler state.
/// </summary>
public sealed class EpochPlanner(JobContext job, JobJournal journal)
{
    /// <summary>Limits on what an operator's schedule change records (it is kept for the job's lifetime).</summary>
    public const int MaxOperatorLength = 128;

    public const int MaxReasonLength = 1000;

    private JobState S => job.State;

    public EpochPlan BuildPlan(int epoch, long cursor, long startStep)
    {
        var spec = S.Spec!;
        var schedule = new LrSchedule(spec, S.GlobalBatch, S.StepsPerEpoch);
        var remaining = EpochSteps.From(S.Dataset!.TrainSamples, cursor, S.GlobalBatch, spec.Batch.DropLast);
        var end = startStep + remaining;
        if (spec.Iterations is { } iterations)
        {
            end = Math.Min(end, iterations);
        }

        var last = epoch >= S.TotalEpochs - 1 || (spec.Iterations is { } budget && end >= budget);
        foreach (var (step, oldLr, newLr, reason) in schedule.MilestonesWithin(startStep, end, epoch, S.Scheduler.Lr))
        {
            if (!S.LrDecisions.Any(d => d.Kind == LrDecisionKind.Milestone && d.GlobalStep == step))
            {
                RecordDecision(epoch, step, oldLr, newLr, LrDecisionKind.Milestone, reason);
            }
        }

        if (schedule.WarmupSteps > startStep && schedule.WarmupSteps <= end && !S.LrDecisions.Any(d => d.Kind == LrDecisionKind.WarmupDone))
        {
            var before = schedule.At(schedule.WarmupSteps - 1, epoch, S.Scheduler.Lr);
            var after = schedule.At(schedule.WarmupSteps, epoch, S.Scheduler.Lr);
            RecordDecision(epoch, schedule.WarmupSteps, before, after, LrDecisionKind.WarmupDone,
                $"warmup ends at step {schedule.WarmupSteps} → lr {ReduceLrOnPlateau.Lr(before)} → {ReduceLrOnPlateau.Lr(after)}");
        }

        return new EpochPlan
        {
            Generation = S.Generation,
            Epoch = epoch,
            TotalEpochs = S.TotalEpochs,
            StepsInEpoch = S.StepsPerEpoch,
            StartGlobalStep = startStep,
            EndGlobalStep = end,
            Cursor = cursor,
            GlobalBatch = S.GlobalBatch,
            PerRankBatch = S.PerRankBatch,
            WorldSize = S.Members.Count == 0 ? S.GlobalBatch / S.PerRankBatch : S.Members.Count,
            Seed = spec.Seed,
            Evaluate = last || (epoch + 1) % spec.Evaluation.EveryEpochs == 0,
            Checkpoint = last || (epoch + 1) % spec.Checkpoint.EveryEpochs == 0,
            LrSegments = schedule.Segments(startStep, end, epoch, S.Scheduler.Lr),
            Momentum = spec.Optimizer.Momentum,
            WeightDecay = spec.Optimizer.WeightDecay,
            Nesterov = spec.Optimizer.Nesterov,
            TraceParent = JobTelemetry.EpochPlanned(job.JobId, S.Generation, epoch),
        };
    }

    /// <summary>What a rank asking for <paramref name="epoch"/> gets: the plan, "wait", or "finished".</summary>
    public EpochPlanResult PlanFor(long generation, int epoch)
    {
        job.EnsureExists();
        job.EnsureFormed(generation, "epoch plan request");
        var plan = S.CurrentPlan!;
        if (S.Phase == JobPhase.Completed)
        {
            return new EpochPlanResult(EpochPlanStatus.Finished, null, S.PhaseReason);
        }

        if (S.Phase.IsTerminal())
        {
            return new EpochPlanResult(EpochPlanStatus.Finished, null, $"job is {S.Phase}: {S.PhaseReason}");
        }

        if (epoch == plan.Epoch)
        {
            return new EpochPlanResult(EpochPlanStatus.Ready, plan, "");
        }

        if (epoch == plan.Epoch + 1)
        {
            var missing = S.Members.Select(m => m.Rank).Where(r => !S.EpochReports.ContainsKey(r));
            return new EpochPlanResult(EpochPlanStatus.Pending, null,
                $"epoch {plan.Epoch} is still open: waiting for the reports of ranks {string.Join(", ", missing)}");
        }

        throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"epoch {plan.Epoch} is in progress; epoch {epoch} has no plan");
    }

    /// <summary>Records one rank's end-of-epoch report; the last one completes the epoch (and may complete the job).
    /// Returns false when the report was ignored (an epoch already complete).</summary>
    public bool Accept(EpochReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var plan = S.CurrentPlan!;
        if (S.Phase.IsTerminal() || report.Epoch < plan.Epoch)
        {
            JobLog.Ignored(job.Logger, job.JobId, $"epoch {report.Epoch} report of rank {report.Rank}", "that epoch is already complete");
            return false;
        }

        if (report.Epoch > plan.Epoch)
        {
            throw new ArgumentException($"rank {report.Rank} reported epoch {report.Epoch}, but epoch {plan.Epoch} is in progress", nameof(report));
        }

        if (plan.Evaluate && report.Eval is null)
        {
            throw new ArgumentException($"epoch {plan.Epoch} is an evaluation epoch: rank {report.Rank} must report its eval counts", nameof(report));
        }

        S.EpochReports[report.Rank] = report;
        if (S.EpochReports.Count == S.Members.Count)
        {
            Complete(plan);
        }

        return true;
    }

    public void RecordDecision(int epoch, long step, double oldLr, double newLr, LrDecisionKind kind, string reason)
    {
        var decision = new LrDecision(epoch, step, oldLr, newLr, kind, reason, job.Now);
        S.LrDecisions.Add(decision);
        JobTelemetry.Decision(job.JobId, kind, newLr);
        journal.Add(JobEventKind.LrDecision, reason, new LrDecisionDetail(decision));
        JobLog.LrChanged(job.Logger, job.JobId, oldLr, newLr, reason);
    }

    /// <summary>One line of an epoch's metrics, as events and the log show it.</summary>
    public static string Describe(EpochMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var text = string.Create(CultureInfo.InvariantCulture, $"train loss {m.TrainLoss:0.0000}, train top-1 error {m.TrainTop1Error * 100:0.00}% ({m.TrainSamples} samples)");
        if (m.ValTop1Error is { } top1)
        {
            text += string.Create(CultureInfo.InvariantCulture,
                $", val top-1 error {top1 * 100:0.00}%, top-5 error {m.ValTop5Error * 100:0.00}%, val loss {m.ValLoss:0.0000} ({m.ValSamples} samples)");
        }

        return text + string.Create(CultureInfo.InvariantCulture, $", lr {m.LearningRate:G6}");
    }

    private void Complete(EpochPlan plan)
    {
        var spec = S.Spec!;
        var train = S.EpochReports.Values.Select(r => r.Train).Aggregate(TrainCounts.Zero, TrainCounts.Add);
        var eval = plan.Evaluate ? S.EpochReports.Values.Select(r => r.Eval!).Aggregate(EvalCounts.Zero, EvalCounts.Add) : null;
        var metrics = new EpochMetrics
        {
            Epoch = plan.Epoch,
            GlobalStep = plan.EndGlobalStep,
            TrainLoss = train.MeanLoss,
            TrainTop1Error = train.Top1Error,
            TrainSamples = train.Samples,
            ValTop1Error = eval?.Top1Error,
            ValTop5Error = eval?.Top5Error,
            ValLoss = eval?.MeanLoss,
            ValSamples = eval?.Total ?? 0,
            LearningRate = plan.LearningRateAt(Math.Max(plan.StartGlobalStep, plan.EndGlobalStep - 1)),
            At = job.Now,
            RankImagesPerSecond = new(S.EpochReports.OrderBy(r => r.Key).Select(r => r.Value.TrainSeconds > 0 ? r.Value.Train.Samples / r.Value.TrainSeconds : 0).ToArray()),
        };
        S.Metrics.Add(metrics);
        JobTelemetry.EpochCompleted(job.JobId, metrics);
        var text = Describe(metrics);
        journal.Add(JobEventKind.EpochMetrics, $"epoch {plan.Epoch}: {text}", new EpochMetricsDetail(metrics));
        JobLog.EpochDone(job.Logger, job.JobId, plan.Epoch, text);

        // A generation resumed at an epoch's end (a survivor's state kept after its last step) trains no sample of
        // it: a training-loss rule has nothing to judge that epoch by.
        if (Plateau is { } plateau && (eval is not null || (PlateauMetricInfo.IsTraining(plateau.Metric) && train.Samples > 0)))
        {
            var value = plateau.Metric switch
            {
                PlateauMetric.ValTop1Error => eval!.Top1Error,
                PlateauMetric.ValTop5Error => eval!.Top5Error,
                PlateauMetric.ValLoss => eval!.MeanLoss,
                PlateauMetric.ValTop1Accuracy => 1.0 - eval!.Top1Error,
                _ => train.MeanLoss,
            };
            var step = ReduceLrOnPlateau.Step(plateau, S.Scheduler, value, plan.Epoch);
            S.Scheduler = step.State;
            if (step.Reason is { } reason)
            {
                RecordDecision(plan.Epoch + 1, plan.EndGlobalStep, step.OldLr, step.NewLr, LrDecisionKind.Plateau, reason);
            }
        }

        S.EpochReports.Clear();
        // The ranks wait at the boundary: tell them to ask for the next plan (or to learn that training is over).
        job.Order(new MemberOrder(MemberOrderKind.EpochReady, S.Members.ToList(), S.FormedGeneration, "", Epoch: plan.Epoch + 1));
        var finished = plan.Epoch >= S.TotalEpochs - 1 || (spec.Iterations is { } iterations && plan.EndGlobalStep >= iterations);
        if (finished)
        {
            var length = spec.Iterations is { } n ? $"{n} iterations" : $"{S.TotalEpochs} epochs";
            journal.Transition(JobPhase.Completed, $"trained {length} (step {plan.EndGlobalStep}); final {text}");
            return;
        }

        if (S.PendingDrop is { } drop && Plateau is { } rule)
        {
            // The operator's drop, at the plan it was promised for; counted like a plateau drop (cooldown starts).
            var old = S.Scheduler.Lr;
            var lr = Math.Max(old * rule.Factor, rule.MinLr);
            S.Scheduler = S.Scheduler with { Lr = lr, NumBadEpochs = 0, CooldownCounter = rule.Cooldown };
            S.PendingDrop = null;
            RecordDecision(plan.Epoch + 1, plan.EndGlobalStep, old, lr, LrDecisionKind.Operator,
                $"operator {drop.Operator} forced a drop: {drop.Reason} → lr {ReduceLrOnPlateau.Lr(old)} → {ReduceLrOnPlateau.Lr(lr)}");
        }

        S.CurrentPlan = BuildPlan(plan.Epoch + 1, 0, plan.EndGlobalStep);
    }

    /// <summary>The plateau rule in force: the spec's with the operators' changes (null: the job has none).</summary>
    public PlateauScheduleSpec? Plateau => S.PlateauOverride ?? S.Spec?.Schedule.Plateau;

    /// <summary>
    /// An operator's change: checked (who, why, the values), recorded with the time, announced; new settings
    /// apply from the next evaluation and a forced drop at the next epoch plan. Refused, changing nothing,
    /// for a job that ended or has no plateau schedule.
    /// </summary>
    public void Update(ScheduleUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        job.EnsureExists();
        if (S.Phase.IsTerminal())
        {
            throw new JobTransitionException(job.JobId, S.Phase, "update the schedule");
        }

        if (Plateau is not { } rule)
        {
            throw new JobTransitionException(job.JobId, S.Phase, "update the schedule: the job has no plateau schedule (spec.schedule.plateau)");
        }

        var errors = new List<SpecError>();
        if (string.IsNullOrWhiteSpace(update.Operator))
        {
            errors.Add(new SpecError("operator", "is required: who changes the schedule"));
        }
        else if (update.Operator.Length > MaxOperatorLength)
        {
            errors.Add(new SpecError("operator", $"must be at most {MaxOperatorLength} characters, got {Quote.Value(update.Operator)}"));
        }

        if (string.IsNullOrWhiteSpace(update.Reason))
        {
            errors.Add(new SpecError("reason", "is required: why the schedule changes"));
        }
        else if (update.Reason.Length > MaxReasonLength)
        {
            errors.Add(new SpecError("reason", $"must be at most {MaxReasonLength} characters, got {Quote.Value(update.Reason)}"));
        }

        if (update.Patience is < 0)
        {
            errors.Add(new SpecError("patience", $"must be ≥ 0, got {update.Patience}"));
        }

        if (update.Factor is { } factor && !(factor > 0 && factor < 1))
        {
            errors.Add(new SpecError("factor", $"must be in (0, 1), got {factor.ToString(CultureInfo.InvariantCulture)}"));
        }

        if (update.Threshold is { } threshold && !(threshold >= 0 && double.IsFinite(threshold)))
        {
            errors.Add(new SpecError("threshold", $"must be ≥ 0, got {threshold.ToString(CultureInfo.InvariantCulture)}"));
        }

        if (update.Patience is null && update.Factor is null && update.Threshold is null && !update.DropNow)
        {
            errors.Add(new SpecError("update", "changes nothing: give patience, factor, threshold or a forced drop"));
        }

        if (errors.Count > 0)
        {
            throw new JobSpecInvalidException(errors);
        }

        var recorded = update with { At = job.Now };
        var changed = rule with
        {
            Patience = update.Patience ?? rule.Patience,
            Factor = update.Factor ?? rule.Factor,
            Threshold = update.Threshold ?? rule.Threshold,
        };
        var what = new[]
        {
            changed.Patience != rule.Patience ? $"patience {rule.Patience} → {changed.Patience}" : null,
            changed.Factor != rule.Factor ? string.Create(CultureInfo.InvariantCulture, $"factor {rule.Factor} → {changed.Factor}") : null,
            changed.Threshold != rule.Threshold ? string.Create(CultureInfo.InvariantCulture, $"threshold {rule.Threshold} → {changed.Threshold}") : null,
            update.DropNow ? "a learning-rate drop at the next epoch plan" : null,
        }.OfType<string>().ToList();
        S.PlateauOverride = changed;
        if (update.DropNow)
        {
            S.PendingDrop = recorded;
        }

        S.ScheduleUpdates.Add(recorded);
        journal.Add(JobEventKind.ScheduleUpdated,
            $"operator {update.Operator} changed the schedule: {(what.Count == 0 ? "the same settings again" : string.Join(", ", what))}; reason: {update.Reason}",
            new ScheduleUpdatedDetail(recorded));
    }
}
