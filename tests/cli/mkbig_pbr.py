# mkbig_pbr.py OUT - writes a two-record RecordIO-protobuf file whose second row is sparse with
# shape 2^62 (for tests/cli/hardening.sh: a dense write of it must name the file and record).
import struct, sys
def varint(n):
    out=b''
    while True:
        b=n&0x7f; n>>=7
        if n: out+=bytes([b|0x80])
        else: return out+bytes([b])
def fld(num, wt, data):
    return varint(num<<3|wt)+ (varint(len(data))+data if wt==2 else data)
def tensor(vals, keys, shape):
    t=fld(1,2,struct.pack('<%df'%len(vals),*vals))
    if keys: t+=fld(2,2,b''.join(varint(k) for k in keys))
    if shape: t+=fld(3,2,b''.join(varint(k) for k in shape))
    return t
def value(t): return fld(2,2,t)
def entry(k,v): return fld(1,2,k.encode())+fld(2,2,v)
def record(vals,keys,shape,label):
    return fld(1,2,entry("values",value(tensor(vals,keys,shape))))+fld(2,2,entry("values",value(tensor([label],[],[]))))
out=open(sys.argv[1],'wb')
for r in [record([1.5],[0],[4],1.0), record([2.0],[3],[1<<62],0.0)]:
    out.write(struct.pack('<II',0xced7230a,len(r))+r+b'\0'*((4-len(r)%4)%4))
