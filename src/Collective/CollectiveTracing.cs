using System.Diagnostics;

namespace Plateau.Collective;

/// <summary>
/// Spans for a sample of collective operations (<see cref="RingOptions.TraceEveryNthOperation"/>): one every
/// N keeps the trace of an epoch readable and the cost of thousands of operations per epoch negligible,
/// while still showing where the all-reduce time goes. A span is a child of the caller's activity (the
/// trainer's epoch span), so it lands in the job's trace.
/// </summary>
public static class CollectiveTracing
{
    /// <summary>Matches the service defaults' "Plateau.*" source registration.</summary>
    public const string SourceName = "Plateau.Collective";

    public const string SpanName = "plateau.collective";

    public static readonly ActivitySource Source = new(SourceName, "1.0");

    /// <summary>Whether operation <paramref name="sequence"/> (1-based) is traced: the first, then every <paramref name="everyNth"/>th.</summary>
    public static bool Sampled(ulong sequence, int everyNth) => everyNth > 0 && (sequence - 1) % (ulong)everyNth == 0;
}
