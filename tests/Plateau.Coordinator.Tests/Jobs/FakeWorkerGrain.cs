using System.Collections.Concurrent;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Workers;

namespace Plateau.Coordinator.Tests.Jobs;

/// <summary>Stands in for the worker side: records every push by grain key.</summary>
public sealed class FakeWorkerGrain : Grain, IWorkerGrain
{
    public static ConcurrentDictionary<string, ConcurrentQueue<object>> Calls { get; } = new();

    public static ConcurrentDictionary<string, bool> Unreachable { get; } = new();

    private string Key => this.GetPrimaryKeyString();

    public static IReadOnlyList<object> CallsOf(string workerId, string deviceId) =>
        Calls.TryGetValue(WorkerGrainKey.For(workerId, deviceId), out var calls) ? calls.ToList() : [];

    public Task StartTraining(Assignment assignment) => Record(assignment);

    public Task Pause(PauseRequest request) => Record(request);

    public Task Resume(ResumeRequest request) => Record(request);

    public Task Stop(StopRequest request) => Record(request);

    /// <summary>Epoch notices are counted apart so the recorded calls stay the commands a test checks.</summary>
    public Task EpochReady(EpochReadyNotice notice)
    {
        EpochNotices.GetOrAdd(this.GetPrimaryKeyString(), _ => new ConcurrentQueue<EpochReadyNotice>()).Enqueue(notice);
        return Task.CompletedTask;
    }

    public static ConcurrentDictionary<string, ConcurrentQueue<EpochReadyNotice>> EpochNotices { get; } = new();

    public Task<WorkerStatus> GetStatus() =>
        Task.FromResult(new WorkerStatus { WorkerId = Key.Split('/')[0], DeviceId = Key.Split('/')[1] });

    private Task Record(object call)
    {
        if (Unreachable.ContainsKey(Key))
        {
            throw new InvalidOperationException($"worker {Key} is unreachable");
        }

        Calls.GetOrAdd(Key, _ => new ConcurrentQueue<object>()).Enqueue(call);
        return Task.CompletedTask;
    }
}
