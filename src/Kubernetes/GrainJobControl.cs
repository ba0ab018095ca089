using Plateau.Contracts.Jobs;
using Plateau.Coordinator.Api;

namespace Plateau.Kubernetes;

/// <summary>The jobs as JobGrains, submitted through the same path as the gRPC SubmitJob.</summary>
public sealed class GrainJobControl(IGrainFactory grains, TimeProvider time) : IJobControl
{
    public Task<JobSummary?> GetAsync(string jobId) => grains.GetGrain<IJobGrain>(jobId).GetSummary();

    public Task<JobSummary> SubmitAsync(string jobId, string specText) => JobSubmission.SubmitAsync(grains, jobId, specText, time.GetUtcNow());

    public Task<JobSummary> CancelAsync(string jobId, string reason) => grains.GetGrain<IJobGrain>(jobId).Cancel(reason);
}
