namespace Plateau.Collective.Tests;

/// <summary>
/// Ring tests run once per data transport: each test class is abstract and nests an
/// <c>OverGrpc</c> and an <c>OverSockets</c> subclass that pick <see cref="Transport"/>.
/// </summary>
public abstract class RingTestBase
{
    protected abstract DataTransport Transport { get; }

    private protected Task<RingHarness> StartRingAsync(int worldSize, Action<RingOptions>? configure = null, long generation = 1) =>
        RingHarness.StartAsync(worldSize, configure, generation, Transport);
}
