namespace Plateau.Contracts.Workers;

public static class WorkerGrainKey
{
    /// <summary>"worker-0/cuda:1": one WorkerGrain per device of a worker process.</summary>
    public static string For(string workerId, string deviceId) => $"{workerId}/{deviceId}";
}
