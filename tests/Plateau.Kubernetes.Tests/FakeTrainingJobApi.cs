using System.Text.Json;

namespace Plateau.Kubernetes.Tests;

/// <summary>
/// TrainingJobs as an API server keeps them: the stored object is what the next list returns, status
/// and finalizer writes land on it, and the resourceVersion moves with each write.
/// </summary>
internal sealed class FakeTrainingJobApi : ITrainingJobApi
{
    public Dictionary<string, TrainingJob> Stored { get; } = [];

    public int StatusWrites { get; private set; }

    public int FinalizerWrites { get; private set; }

    public TrainingJob Apply(TrainingJob job)
    {
        Stored[job.Metadata.Name] = Copy(job);
        return job;
    }

    public Task<IReadOnlyList<TrainingJob>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<TrainingJob>>([.. Stored.Values.Select(Copy)]);

    public Task<TrainingJob> SetFinalizersAsync(TrainingJob job, IReadOnlyList<string> finalizers, CancellationToken cancellationToken)
    {
        var stored = Stored[job.Metadata.Name];
        if (stored.Metadata.ResourceVersion != job.Metadata.ResourceVersion)
        {
            throw new InvalidOperationException($"conflict: {job.Metadata.Name} changed since it was read");
        }

        FinalizerWrites++;
        stored.Metadata.Finalizers = [.. finalizers];
        Bump(stored);
        if (stored.Metadata.DeletionTimestamp is not null && finalizers.Count == 0)
        {
            Stored.Remove(job.Metadata.Name);
        }

        return Task.FromResult(Copy(stored));
    }

    public Task WriteStatusAsync(TrainingJob job, TrainingJobStatus status, CancellationToken cancellationToken)
    {
        StatusWrites++;
        var stored = Stored[job.Metadata.Name];
        stored.Status = status;
        Bump(stored);
        return Task.CompletedTask;
    }

    private static void Bump(TrainingJob job) =>
        job.Metadata.ResourceVersion = (long.Parse(job.Metadata.ResourceVersion ?? "0", System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static TrainingJob Copy(TrainingJob job) => JsonSerializer.Deserialize<TrainingJob>(JsonSerializer.Serialize(job))!;
}
