using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Coordinator.Jobs;

namespace Plateau.Kubernetes;

/// <summary>
/// Brings one TrainingJob and its job together; safe to run any number of times on the same object
/// (every pass reads the job's state afresh, so a coordinator restart loses nothing):
/// a new object is submitted under metadata.name (once: an existing job is never submitted again),
/// status mirrors the job's summary, a spec edited after submission is refused (condition
/// SpecApplied=False, the job runs on unchanged), and deleting the object cancels the job before the
/// finalizer is removed.
/// </summary>
public sealed class TrainingJobReconciler(IJobControl jobs, ITrainingJobApi api, TimeProvider time)
{
    /// <summary>Held by every submitted TrainingJob until its job is cancelled or over.</summary>
    public const string Finalizer = "plateau.dev/cancel-job";

    public async Task ReconcileAsync(TrainingJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var jobId = job.Metadata.Name;
        var finalizers = job.Metadata.Finalizers ?? [];
        if (job.Metadata.DeletionTimestamp is not null)
        {
            if (finalizers.Contains(Finalizer))
            {
                await CancelAsync(jobId);
                await api.SetFinalizersAsync(job, [.. finalizers.Where(f => f != Finalizer)], cancellationToken);
            }

            return;
        }

        if (!JobIds.IsValid(jobId))
        {
            await WriteAsync(job, Rejected(job, "InvalidName", $"metadata.name is the job id and {JobIds.Rule(jobId)}"), cancellationToken);
            return;
        }

        var (specText, wanted, specProblem) = ReadSpec(job);
        var summary = await jobs.GetAsync(jobId);
        if (summary is null)
        {
            if (specProblem is not null)
            {
                await WriteAsync(job, Rejected(job, "InvalidSpec", specProblem), cancellationToken);
                return;
            }

            // The finalizer first: an object deleted right after the submission still cancels its job.
            if (!finalizers.Contains(Finalizer))
            {
                job = await api.SetFinalizersAsync(job, [.. finalizers, Finalizer], cancellationToken);
            }

            try
            {
                summary = await jobs.SubmitAsync(jobId, specText!);
            }
            catch (JobSpecInvalidException e)
            {
                // Nothing was submitted, so nothing is left to cancel on delete.
                job = await api.SetFinalizersAsync(job, [.. finalizers.Where(f => f != Finalizer)], cancellationToken);
                await WriteAsync(job, Rejected(job, "InvalidSpec", e.Message), cancellationToken);
                return;
            }
            catch (JobTransitionException)
            {
                // Submitted meanwhile (another pass, or the CLI): the job exists, read it.
                summary = await jobs.GetAsync(jobId) ?? throw new InvalidOperationException($"job {jobId} refused submission as existing but cannot be read");
            }
        }
        else if (!finalizers.Contains(Finalizer) && !summary.Phase.IsTerminal())
        {
            job = await api.SetFinalizersAsync(job, [.. finalizers, Finalizer], cancellationToken);
        }

        var applied = wanted is not null && JobSpecJson.Serialize(wanted) == JobSpecJson.Serialize(summary.Spec);
        var specCondition = applied
            ? Condition(job, TrainingJobConditions.SpecApplied, true, "Submitted", "the job runs this spec")
            : Condition(job, TrainingJobConditions.SpecApplied, false, "SpecUpdateRefused",
                $"the spec changed after submission and a job's spec cannot change; job {jobId} runs the submitted spec (delete and re-create the TrainingJob to run the new one)"
                + (specProblem is null ? "" : $"; the new spec is also invalid: {specProblem}"));
        await WriteAsync(job, FromSummary(job, summary, specCondition), cancellationToken);
    }

    private async Task CancelAsync(string jobId)
    {
        if (!JobIds.IsValid(jobId) || await jobs.GetAsync(jobId) is not { } summary || summary.Phase.IsTerminal())
        {
            return;
        }

        try
        {
            await jobs.CancelAsync(jobId, "TrainingJob deleted");
        }
        catch (JobTransitionException)
        {
            // It ended meanwhile: nothing left to cancel.
        }
    }

    private static (string? Text, JobSpec? Spec, string? Problem) ReadSpec(TrainingJob job)
    {
        try
        {
            var text = TrainingJobSpecs.ToSpecText(job);
            return (text, JobSpecLoader.Parse(text), null);
        }
        catch (JobSpecInvalidException e)
        {
            return (null, null, e.Message);
        }
    }

    private TrainingJobStatus FromSummary(TrainingJob job, JobSummary summary, TrainingJobCondition specCondition) => new()
    {
        JobId = summary.JobId,
        Phase = summary.Phase.ToString(),
        Reason = Shorten(summary.PhaseReason),
        ObservedGeneration = job.Metadata.Generation,
        Generation = summary.Generation,
        WorldSize = summary.WorldSize,
        Epoch = summary.Epoch,
        TotalEpochs = summary.TotalEpochs,
        GlobalStep = summary.GlobalStep,
        LearningRate = summary.LearningRate,
        ValTop1Error = summary.MetricsHistory.LastOrDefault(m => m.ValTop1Error is not null)?.ValTop1Error,
        Restarts = summary.Restarts,
        LatestCheckpoint = summary.LatestCheckpoint?.CheckpointId,
        Conditions = [Condition(job, TrainingJobConditions.Submitted, true, "Submitted", $"job {summary.JobId} exists in the coordinator"), specCondition],
    };

    private TrainingJobStatus Rejected(TrainingJob job, string reason, string message) => new()
    {
        Phase = TrainingJobPhases.Rejected,
        Reason = Shorten(message),
        ObservedGeneration = job.Metadata.Generation,
        Conditions = [Condition(job, TrainingJobConditions.Submitted, false, reason, Shorten(message))],
    };

    /// <summary>A condition keeps its transition time while its status stays the same.</summary>
    private TrainingJobCondition Condition(TrainingJob job, string type, bool status, string reason, string message)
    {
        var text = status ? "True" : "False";
        var previous = job.Status?.Conditions.FirstOrDefault(c => c.Type == type);
        return new TrainingJobCondition
        {
            Type = type,
            Status = text,
            Reason = reason,
            Message = message,
            ObservedGeneration = job.Metadata.Generation,
            LastTransitionTime = previous?.Status == text ? previous.LastTransitionTime : time.GetUtcNow(),
        };
    }

    private async Task WriteAsync(TrainingJob job, TrainingJobStatus status, CancellationToken cancellationToken)
    {
        if (!status.SameAs(job.Status))
        {
            await api.WriteStatusAsync(job, status, cancellationToken);
        }
    }

    private static string Shorten(string text) => text.Length <= 1000 ? text : text[..997] + "...";
}
