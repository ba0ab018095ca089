using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Worker.Checkpointing;
using Plateau.Worker.Training;
using TorchSharp;

namespace Plateau.Worker.Hosting;

/// <summary>This worker's device inventory and one <see cref="DeviceTrainer"/> per device.</summary>
public sealed class WorkerDevices
{
    private readonly Dictionary<string, DeviceTrainer> _byId;

    public WorkerDevices(IOptions<WorkerOptions> options, WorkerDataPlane dataPlane, TrainingDataCache datasets, ICheckpointTransport checkpoints, IGrainFactory grains, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        var worker = options.Value;
        WorkerId = worker.WorkerId;
        var trainerOptions = new TrainerOptions
        {
            DecodeThreads = worker.DecodeThreads,
            ProgressInterval = TimeSpan.FromSeconds(worker.ProgressIntervalSeconds),
            CollectiveTimeout = TimeSpan.FromSeconds(worker.CollectiveTimeoutSeconds),
            CollectiveTraceEveryNthOperation = worker.CollectiveTraceEveryNthOperation,
            SharedMemory = worker.DataPlaneSharedMemory,
            OverlapGradientReduction = worker.OverlapGradientReduction,
            TrustedCertificatePath = string.IsNullOrEmpty(worker.DataPlaneTrustedCertificatePath) ? null : worker.DataPlaneTrustedCertificatePath,
        };
        var localGroups = new LocalDeviceGroups(); // a multi-device worker's devices meet here when the job reduces hierarchically
        Trainers = [.. Inventory(worker).Select((d, i) => new DeviceTrainer(worker.WorkerId, d.Info, d.Device, i, dataPlane,
            a => new JobGrainChannel(grains.GetGrain<IJobGrain>(a.JobId), grains.GetGrain<ICheckpointSealerGrain>(a.JobId)), trainerOptions, datasets, checkpoints, loggerFactory, localGroups))];
        _byId = Trainers.ToDictionary(t => t.Device.DeviceId, StringComparer.Ordinal);
    }

    public string WorkerId { get; }

    public IReadOnlyList<DeviceTrainer> Trainers { get; }

    public IReadOnlyList<DeviceInfo> Devices => [.. Trainers.Select(t => t.Device)];

    public DeviceTrainer? Find(string deviceId) => _byId.GetValueOrDefault(deviceId);

    /// <summary>CUDA devices when asked for (or present with "auto"), else CPU "devices" sharing the cores.</summary>
    public static IReadOnlyList<(DeviceInfo Info, torch.Device Device)> Inventory(WorkerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cuda = options.DeviceKind == "cuda" || (options.DeviceKind == "auto" && torch.cuda.is_available());
        if (cuda)
        {
            var available = torch.cuda.is_available() ? torch.cuda.device_count() : 0;
            if (available < options.Devices)
            {
                throw new InvalidOperationException($"{WorkerOptions.SectionName}:Devices asks for {options.Devices} CUDA devices but {available} are available");
            }

            return [.. Enumerable.Range(0, options.Devices).Select(i => (new DeviceInfo($"cuda:{i}", DeviceKind.Cuda, $"CUDA device {i}", 0L), new torch.Device(DeviceType.CUDA, i)))];
        }

        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / options.Devices;
        return [.. Enumerable.Range(0, options.Devices).Select(i => (new DeviceInfo($"cpu:{i}", DeviceKind.Cpu, $"CPU ({Environment.ProcessorCount} cores shared)", memory), torch.CPU))];
    }
}
