using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Workers;

namespace Plateau.Bench;

/// <summary>
/// A rank without a trainer, for <c>plateau-bench coordinator</c>: it takes the coordinator's pushes (StartTraining
/// when a generation forms, Stop when the job is cancelled) and does nothing with them. The simulated rank's
/// progress reports are sent by the benchmark's own loop, as a real rank's trainer thread sends them off the grain.
/// </summary>
public sealed class SimulatedWorkerGrain : Grain, IWorkerGrain
{
    public Task StartTraining(Assignment assignment) => Task.CompletedTask;

    public Task Pause(PauseRequest request) => Task.CompletedTask;

    public Task Resume(ResumeRequest request) => Task.CompletedTask;

    public Task Stop(StopRequest request) => Task.CompletedTask;

    public Task EpochReady(EpochReadyNotice notice) => Task.CompletedTask;

    public Task<WorkerStatus> GetStatus()
    {
        var (workerId, deviceId) = WorkerGrainKey.Parse(this.GetPrimaryKeyString());
        return Task.FromResult(new WorkerStatus { WorkerId = workerId, DeviceId = deviceId });
    }
}
