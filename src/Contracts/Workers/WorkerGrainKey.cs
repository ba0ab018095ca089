namespace Plateau.Contracts.Workers;

public static class WorkerGrainKey
{
    /// <summary>"worker-0/cuda:1": one WorkerGrain per device of a worker process.</summary>
    public static string For(string workerId, string deviceId) => $"{workerId}/{deviceId}";

    /// <summary>The worker process and device a key names ("worker-0/cuda:1" → worker-0, cuda:1).</summary>
    public static (string WorkerId, string DeviceId) Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (key, "") : (key[..slash], key[(slash + 1)..]);
    }
}
