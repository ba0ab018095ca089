using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Coordinator.Jobs;

namespace Plateau.Coordinator.Api;

/// <summary>
/// The one submission path: spec text (YAML or JSON) read by <see cref="JobSpecLoader"/>, then the
/// JobGrain of the id validates and records it. The gRPC SubmitJob and the TrainingJob controller both use it.
/// </summary>
public static class JobSubmission
{
    /// <summary>Submits <paramref name="specText"/> as <paramref name="jobId"/>, or under a new id from spec.name when it is empty.</summary>
    public static async Task<JobSummary> SubmitAsync(IGrainFactory grains, string? jobId, string specText, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(grains);
        var spec = JobSpecLoader.Parse(specText);
        var id = string.IsNullOrEmpty(jobId) ? JobIds.New(spec.Name, now) : jobId;
        return await grains.GetGrain<IJobGrain>(id).Submit(spec);
    }
}
