namespace Plateau.Coordinator.Jobs;

public sealed class JobCatalogGrain(
    [PersistentState("catalog", JobGrain.StorageName)] IPersistentState<JobCatalogState> state) : Grain, IJobCatalogGrain
{
    public async Task Add(string jobId)
    {
        if (!state.State.JobIds.Contains(jobId, StringComparer.Ordinal))
        {
            state.State.JobIds.Add(jobId);
            await state.WriteStateAsync();
        }
    }

    public Task<IReadOnlyList<string>> List() =>
        Task.FromResult<IReadOnlyList<string>>(state.State.JobIds.AsEnumerable().Reverse().ToList());
}
