namespace Plateau.Contracts.Pool;

/// <summary>
/// The coordinator's pool of workers that are not tied to one job by configuration (no
/// <c>Plateau:Worker:JobId</c>), key <see cref="DefaultPool"/>. A pooled worker offers itself and is told which
/// job to serve; while it serves one it offers again now and then with <see cref="PoolOffer.ServingJobId"/> set
/// (its lease). The pool keeps nothing durable: what it knows is rebuilt from those offers and the jobs' own
/// persisted state, so a coordinator restart loses nothing (docs/control-plane.md, "Worker pool").
/// </summary>
[Alias("plateau.IWorkerPoolGrain")]
public interface IWorkerPoolGrain : IGrainWithStringKey
{
    /// <summary>The one pool there is today.</summary>
    public const string DefaultPool = "default";

    /// <summary>An idle worker asks for a job, or a serving worker renews its lease on the job it serves.</summary>
    [Alias("Offer")]
    Task<PoolAnswer> Offer(PoolOffer offer);
}
