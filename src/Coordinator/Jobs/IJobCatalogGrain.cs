namespace Plateau.Coordinator.Jobs;

/// <summary>The list of job ids (key 0), for ListJobs. Jobs add themselves on submission.</summary>
[Alias("plateau.IJobCatalogGrain")]
public interface IJobCatalogGrain : IGrainWithIntegerKey
{
    [Alias("Add")]
    Task Add(string jobId);

    /// <summary>Job ids, newest first.</summary>
    [Alias("List")]
    Task<IReadOnlyList<string>> List();
}
