using Plateau.Contracts.Jobs;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// One client request id of SubmitJob (the grain key): remembers which job it created and from what, so a
/// retried call answers the same job and a reused id with other content is refused. One activation per id
/// serialises concurrent retries.
/// </summary>
[Alias("plateau.ISubmitRequestGrain")]
public interface ISubmitRequestGrain : IGrainWithStringKey
{
    /// <summary>
    /// Submits <paramref name="specText"/> as <paramref name="jobId"/> (or a new id) the first time; later calls
    /// with the same content answer that job; other content throws <see cref="JobAlreadyExistsException"/>.
    /// </summary>
    [Alias("Submit")]
    Task<JobSummary> Submit(string? jobId, string specText);
}
