using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;

namespace Plateau.Kubernetes;

/// <summary>The coordinator's side of the controller: the jobs, by id.</summary>
public interface IJobControl
{
    Task<JobSummary?> GetAsync(string jobId);

    /// <summary>Submits spec text under <paramref name="jobId"/>; throws <see cref="JobSpecInvalidException"/> naming bad fields.</summary>
    Task<JobSummary> SubmitAsync(string jobId, string specText);

    Task<JobSummary> CancelAsync(string jobId, string reason);
}
