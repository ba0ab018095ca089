using Microsoft.Win32.SafeHandles;

namespace Plateau.Data.Datasets;

/// <summary>Reads a whole file into a <see cref="SampleBuffer"/>, turning I/O failures into <see cref="BadSampleException"/>.</summary>
internal static class FileSampleReader
{
    public static ReadOnlyMemory<byte> Read(string path, SampleBuffer buffer)
    {
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            var length = RandomAccess.GetLength(handle);
            if (length > int.MaxValue)
            {
                throw new BadSampleException(path, $"file is {length} bytes, too large for an image", null);
            }
            var memory = buffer.Rent((int)length);
            var read = 0;
            while (read < length)
            {
                var n = RandomAccess.Read(handle, memory.Span[read..], read);
                if (n == 0)
                {
                    throw new BadSampleException(path, $"file shrank while reading ({read} of {length} bytes)", null);
                }
                read += n;
            }
            return memory;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadSampleException(path, e.Message, e);
        }
    }
}
