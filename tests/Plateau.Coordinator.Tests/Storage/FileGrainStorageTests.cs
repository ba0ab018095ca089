using Microsoft.Extensions.Logging.Abstractions;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using Plateau.Coordinator.Storage;

namespace Plateau.Coordinator.Tests.Storage;

public sealed class FileGrainStorageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plateau-state-").FullName;
    private readonly FileGrainStorage _storage;
    private readonly GrainId _grain = GrainId.Create("job", "resnet50-a1b2c3");

    public FileGrainStorageTests() =>
        _storage = new FileGrainStorage("plateau", new FileGrainStorageOptions { RootDirectory = _root }, NullLogger<FileGrainStorage>.Instance);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public sealed class Counter
    {
        public int Value { get; set; }

        public double Loss { get; set; }

        public List<string> Notes { get; set; } = [];
    }

    [Fact]
    public async Task WrittenStateIsReadBack()
    {
        var written = new GrainState<Counter> { State = new Counter { Value = 7, Notes = ["a", "b"] } };
        await _storage.WriteStateAsync("job", _grain, written);

        var read = new GrainState<Counter>();
        await _storage.ReadStateAsync("job", _grain, read);

        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(7, read.State!.Value);
        Assert.Equal(["a", "b"], read.State.Notes);
        Assert.Empty(Directory.GetFiles(_root, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task NaNFromADivergedRunPersists()
    {
        await _storage.WriteStateAsync("job", _grain, new GrainState<Counter> { State = new Counter { Loss = double.NaN } });

        var read = new GrainState<Counter>();
        await _storage.ReadStateAsync("job", _grain, read);

        Assert.True(double.IsNaN(read.State!.Loss));
    }

    [Fact]
    public async Task MissingStateStartsEmpty()
    {
        var read = new GrainState<Counter>();

        await _storage.ReadStateAsync("job", _grain, read);

        Assert.False(read.RecordExists);
        Assert.Equal(0, read.State!.Value);
    }

    [Fact]
    public async Task WriterWithAStaleETagIsRefused()
    {
        var first = new GrainState<Counter> { State = new Counter { Value = 1 } };
        await _storage.WriteStateAsync("job", _grain, first);
        var stale = new GrainState<Counter> { State = new Counter { Value = 2 }, ETag = "not-the-stored-one" };

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("job", _grain, stale));

        var read = new GrainState<Counter>();
        await _storage.ReadStateAsync("job", _grain, read);
        Assert.Equal(1, read.State!.Value);
    }

    [Fact]
    public async Task CorruptFileIsReportedWithItsPath()
    {
        await _storage.WriteStateAsync("job", _grain, new GrainState<Counter> { State = new Counter() });
        var file = Assert.Single(Directory.GetFiles(_root, "*.json", SearchOption.AllDirectories));
        await File.WriteAllTextAsync(file, "{ torn");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _storage.ReadStateAsync("job", _grain, new GrainState<Counter>()));

        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClearRemovesTheFile()
    {
        var state = new GrainState<Counter> { State = new Counter { Value = 3 } };
        await _storage.WriteStateAsync("job", _grain, state);

        await _storage.ClearStateAsync("job", _grain, state);

        Assert.Empty(Directory.GetFiles(_root, "*.json", SearchOption.AllDirectories));
        Assert.False(state.RecordExists);
    }
}
