namespace Plateau.Kubernetes;

/// <summary>The Kubernetes side of the controller: TrainingJobs of one namespace.</summary>
public interface ITrainingJobApi
{
    Task<IReadOnlyList<TrainingJob>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Sets metadata.finalizers (conditional on the object's resourceVersion); returns the updated object.</summary>
    Task<TrainingJob> SetFinalizersAsync(TrainingJob job, IReadOnlyList<string> finalizers, CancellationToken cancellationToken);

    Task WriteStatusAsync(TrainingJob job, TrainingJobStatus status, CancellationToken cancellationToken);
}
