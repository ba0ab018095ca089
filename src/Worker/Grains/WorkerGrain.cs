using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Workers;
using Plateau.Worker.Hosting;

namespace Plateau.Worker.Grains;

/// <summary>
/// One device (rank) of this worker process: a façade over the device's trainer thread. Placement puts
/// it on the silo named by its worker ID (also after a grain-directory entry was lost with another silo),
/// it stays alive, and it refuses an activation anywhere else — a WorkerGrain only means something on
/// the process that owns the device. Calls return at once; nothing here calls back into the JobGrain.
/// </summary>
[OwningWorkerPlacement]
[KeepAlive]
public sealed class WorkerGrain(WorkerDevices devices, WorkerRegistrar registrar) : Grain, IWorkerGrain
{
    private DeviceTrainer _trainer = null!;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var (workerId, deviceId) = WorkerGrainKey.Parse(key);
        if (workerId != devices.WorkerId || devices.Find(deviceId) is not { } trainer)
        {
            throw new InvalidOperationException(
                $"WorkerGrain '{key}' cannot activate on worker {devices.WorkerId} (devices {string.Join(", ", devices.Devices.Select(d => d.DeviceId))}): it belongs to another worker process");
        }

        _trainer = trainer;
        return Task.CompletedTask;
    }

    public Task StartTraining(Assignment assignment)
    {
        _trainer.Start(assignment);
        return Task.CompletedTask;
    }

    public Task Pause(PauseRequest request)
    {
        _trainer.Pause(request);
        return Task.CompletedTask;
    }

    public Task Resume(ResumeRequest request)
    {
        _trainer.Resume(request);
        return Task.CompletedTask;
    }

    public Task Stop(StopRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        _trainer.Stop(request);
        if (request.Rejoin)
        {
            registrar.RequestRejoin(request.JobId, request.Generation);
        }

        return Task.CompletedTask;
    }

    public Task EpochReady(EpochReadyNotice notice)
    {
        _trainer.EpochReady(notice);
        return Task.CompletedTask;
    }

    public Task<WorkerStatus> GetStatus() => Task.FromResult(_trainer.Status());
}
