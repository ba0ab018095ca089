using static TorchSharp.torch;

namespace Plateau.Models.Serialization;

/// <summary>The tensors of a safetensors file (CPU, in file order) and its <c>__metadata__</c>; disposing frees the tensors.</summary>
public sealed class SafeTensorsContent : IDisposable
{
    public SafeTensorsContent(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public void Dispose()
    {
        foreach (var (_, tensor) in Tensors)
        {
            tensor.Dispose();
        }
    }
}
