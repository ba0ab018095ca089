using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;

namespace Plateau.Kubernetes.Tests;

/// <summary>
/// Jobs in memory, standing in for the JobGrains: submission reads the text with the real loader and
/// validator (what JobGrain.Submit checks) and refuses an existing id as the grain does.
/// </summary>
internal sealed class FakeJobControl : IJobControl
{
    public Dictionary<string, JobSummary> Jobs { get; } = [];

    public List<string> Submitted { get; } = [];

    public List<(string JobId, string Reason)> Cancelled { get; } = [];

    /// <summary>Job ids whose next read fails (a coordinator call that times out).</summary>
    public HashSet<string> Failing { get; } = [];

    public Task<JobSummary?> GetAsync(string jobId) =>
        Failing.Contains(jobId) ? throw new TimeoutException($"{jobId}: no answer") : Task.FromResult(Jobs.GetValueOrDefault(jobId));

    public Task<JobSummary> SubmitAsync(string jobId, string specText)
    {
        var spec = JobSpecLoader.Parse(specText);
        if (Jobs.TryGetValue(jobId, out var existing))
        {
            throw new JobTransitionException(jobId, existing.Phase, "submit: a job with this id already exists");
        }

        if (JobSpecValidator.Validate(spec) is { Count: > 0 } errors)
        {
            throw new JobSpecInvalidException(errors);
        }

        Submitted.Add(jobId);
        var summary = new JobSummary { JobId = jobId, Spec = spec, Phase = JobPhase.Rendezvous, PhaseReason = "submitted", Generation = 1 };
        Jobs[jobId] = summary;
        return Task.FromResult(summary);
    }

    public Task<JobSummary> CancelAsync(string jobId, string reason)
    {
        var job = Jobs[jobId];
        if (job.Phase.IsTerminal())
        {
            throw new JobTransitionException(jobId, job.Phase, "cancel: the job is over");
        }

        Cancelled.Add((jobId, reason));
        return Task.FromResult(Jobs[jobId] = job with { Phase = JobPhase.Cancelled, PhaseReason = reason });
    }
}
