"""The network, the lever timelines and the agent columns as the kernels take them: one numba structref each.

A namedtuple of arrays reaches a compiled function flattened, every array as seven machine values, so each
kernel that took the network (32 arrays), the timelines (23) and the agents (13) carried ~470 arguments through
its signature and its Python wrapper: about 0.8 s of compiling per function even when it read one field, most of
a cold start (51.6 s at scale 200 before, 28.9 s after; benchmarks/RESULTS.md). A structref is one pointer to
the same arrays (no copy): `pack(nt)` gives it; the kernels read `net.crossing_sector[x]` exactly as before.
The arrays are shared, so rules that rewrite a timeline in place are seen by the kernels; a store that grows
is packed again (`Population.kernel_view`).
"""
from __future__ import annotations

from numba import njit, types
from numba.core import cgutils
from numba.core.extending import intrinsic
from numba.experimental import structref

__all__ = ["Packed", "pack"]


@structref.register
class PackedType(types.StructRef):
    """The numba type of a packed namedtuple: its fields, in order, with their types."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(t)) for name, t in fields)


class Packed(structref.StructRefProxy):
    """What Python holds of a packed namedtuple: only passed on to kernels (fields are read in compiled code)."""


structref.define_boxing(PackedType, Packed)


@intrinsic
def _pack(typingctx, nt):
    """A new structref holding nt's fields (references to the same arrays, counted)."""
    from numba.experimental.jitclass.base import imp_dtor

    inst_type = PackedType(list(zip(nt.fields, nt.types)))

    def codegen(context, builder, signature, args):
        [value] = args
        model = context.data_model_manager[inst_type.get_data_type()]
        alloc_type = model.get_value_type()
        meminfo = context.nrt.meminfo_alloc_dtor(
            builder, context.get_constant(types.uintp, context.get_abi_sizeof(alloc_type)),
            imp_dtor(context, builder.module, inst_type))
        data_pointer = builder.bitcast(context.nrt.meminfo_data(builder, meminfo), alloc_type.as_pointer())
        builder.store(cgutils.get_null_value(alloc_type), data_pointer)
        inst = context.make_helper(builder, inst_type)
        inst.meminfo = meminfo
        data = context.make_data_helper(builder, inst_type.get_data_type(), ref=data_pointer)
        for k, (name, t) in enumerate(zip(nt.fields, nt.types)):
            field = builder.extract_value(value, k)
            context.nrt.incref(builder, t, field)
            setattr(data, name, context.cast(builder, field, t, inst_type.field_dict[name]))
        return inst._getvalue()

    return inst_type(nt), codegen


@njit(cache=True)
def pack(nt):
    """nt (a namedtuple of arrays and numbers) as one structref for the kernels."""
    return _pack(nt)
