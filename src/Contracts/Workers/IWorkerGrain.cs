using Plateau.Contracts.Rendezvous;

namespace Plateau.Contracts.Workers;

/// <summary>
/// One device (rank) of a worker process (key: <see cref="WorkerGrainKey.For"/>), placed on that
/// worker's silo. A façade over a trainer loop on a dedicated thread. Calls return quickly and must
/// not call back into the JobGrain within their turn. Requests with an old generation are ignored.
/// </summary>
[Alias("plateau.IWorkerGrain")]
public interface IWorkerGrain : IGrainWithStringKey
{
    /// <summary>Start (or replace with a newer generation) the trainer for this assignment.</summary>
    [Alias("StartTraining")]
    Task StartTraining(Assignment assignment);

    /// <summary>Pause at a step boundary all ranks agree on.</summary>
    [Alias("Pause")]
    Task Pause(PauseRequest request);

    [Alias("Resume")]
    Task Resume(ResumeRequest request);

    /// <summary>Stop the trainer; with <see cref="StopRequest.Rejoin"/> the worker registers again for the next generation.</summary>
    [Alias("Stop")]
    Task Stop(StopRequest request);

    /// <summary>The next epoch's plan is ready (or the job finished): ask for it now.</summary>
    [Alias("EpochReady")]
    Task EpochReady(EpochReadyNotice notice);

    [Alias("GetStatus")]
    Task<WorkerStatus> GetStatus();
}
