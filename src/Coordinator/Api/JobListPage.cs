using Plateau.Contracts.Jobs;

namespace Plateau.Coordinator.Api;

/// <summary>One page of ListJobs: the jobs and the token of the next page (empty at the end).</summary>
public sealed record JobListPage(IReadOnlyList<JobSummary> Jobs, string NextPageToken);
