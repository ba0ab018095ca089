using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;

namespace Plateau.Coordinator.Tests.Jobs;

internal static class JobTestKit
{
    public static readonly DatasetSummary Dataset = new(TrainSamples: 1000, ValidationSamples: 200, Classes: 10);

    public static JobSpec Spec(int min = 2, int max = 2, int epochs = 3, double timeoutSeconds = 30, ScheduleSpec? schedule = null, int maxRestarts = 3) => new()
    {
        Model = new ModelSpec { Name = "se_resnet20_cifar" },
        Dataset = new DatasetSpec { Kind = DatasetKind.Synthetic },
        Epochs = epochs,
        Batch = new BatchSpec { Global = 100 },
        Schedule = schedule ?? new ScheduleSpec { Plateau = new PlateauScheduleSpec { Patience = 0 } },
        Workers = new WorkersSpec { Min = min, Max = max, RendezvousTimeoutSeconds = timeoutSeconds },
        MaxRestarts = maxRestarts,
    };

    public static WorkerRegistration Worker(string id, int devices = 1, DatasetSummary? dataset = null, DeviceKind kind = DeviceKind.Cpu) => new()
    {
        WorkerId = id,
        Host = $"host-{id}",
        DataPlaneAddress = $"http://127.0.0.1:{7000 + Math.Abs(id.GetHashCode(StringComparison.Ordinal) % 1000)}",
        Devices = Enumerable.Range(0, devices).Select(i => new DeviceInfo($"cpu:{i}", kind, "CPU", 1L << 30)).ToList(),
        Dataset = dataset ?? Dataset,
    };

    public static string NewJobId(string stem) => $"{stem}-{Guid.NewGuid().ToString("N")[..8]}";

    public static async Task<T> Eventually<T>(Func<Task<T>> probe, Func<T, bool> done, string what, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what} did not happen within {seconds} s; last value: {value}");
            }

            await Task.Delay(50);
        }
    }

    public static EpochReport Report(long generation, int rank, int epoch, long step, long correct1, long total, double lossSum = 100) => new()
    {
        Generation = generation,
        Rank = rank,
        Epoch = epoch,
        GlobalStep = step,
        Train = new TrainCounts(500, 500 * 1.5, 250),
        Eval = new EvalCounts(correct1, Math.Min(total, correct1 + 40), total, lossSum),
    };

    public static async Task<JobSummary> SummaryOf(IGrainFactory grains, string jobId) =>
        (await grains.GetGrain<IJobGrain>(jobId).GetSummary())!;
}
