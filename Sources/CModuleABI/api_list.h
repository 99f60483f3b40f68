/* The API functions the GetApi table hands out: C_API ones are implemented
 * in this target (RM_<name>), SW_API ones in PluginHost (Swift, exported as
 * RMX_<name> with @_cdecl). Plugins/README.md lists what is missing. */

/* core, memory, strings */
C_API(GetApi) C_API(Alloc) C_API(TryAlloc) C_API(Calloc) C_API(Realloc) C_API(Free) C_API(Strdup)
C_API(PoolAlloc) C_API(AutoMemory) C_API(MallocSize) C_API(MallocSizeString) C_API(MallocSizeDict)
C_API(CreateString) C_API(CreateStringPrintf) C_API(CreateStringFromLongLong) C_API(CreateStringFromULongLong)
C_API(CreateStringFromDouble) C_API(CreateStringFromLongDouble) C_API(CreateStringFromString)
C_API(CreateStringFromCallReply) C_API(FreeString) C_API(RetainString) C_API(HoldString) C_API(StringPtrLen)
C_API(StringToLongLong) C_API(StringToULongLong) C_API(StringToDouble) C_API(StringToLongDouble)
C_API(StringCompare) C_API(StringAppendBuffer) C_API(TrimStringAllocation)
/* Call and replies of Call */
C_API(Call) C_API(CallReplyType) C_API(CallReplyLength) C_API(CallReplyInteger) C_API(CallReplyDouble)
C_API(CallReplyBool) C_API(CallReplyBigNumber) C_API(CallReplyVerbatim) C_API(CallReplyStringPtr)
C_API(CallReplyArrayElement) C_API(CallReplySetElement) C_API(CallReplyMapElement) C_API(CallReplyAttribute)
C_API(CallReplyAttributeElement) C_API(CallReplyProto) C_API(FreeCallReply)
/* variadic ones */
C_API(Log) C_API(LogIOError) C_API(Replicate) C_API(EmitAOF) C_API(HashSet) C_API(HashGet)
/* time, randomness, misc */
C_API(Milliseconds) C_API(MonotonicMicroseconds)
C_API(GetRandomBytes) C_API(GetRandomHexChars) C_API(GetTypeMethodVersion) C_API(GetServerVersion)
C_API(IsKeysPositionRequest) C_API(KeyAtPos) C_API(KeyAtPosWithFlags) C_API(SetModuleOptions)
C_API(_Assert) C_API(DigestAddStringBuffer) C_API(DigestAddLongLong) C_API(DigestEndSequence)
C_API(ThreadSafeContextLock) C_API(ThreadSafeContextTryLock) C_API(ThreadSafeContextUnlock)
C_API(MallocUsableSize) C_API(AvoidReplicaTraffic) C_API(GetMyClusterID) C_API(GetClusterSize) C_API(LatencyAddSample)
/* dictionaries */
C_API(CreateDict) C_API(FreeDict) C_API(DictSize) C_API(DictSetC) C_API(DictReplaceC) C_API(DictSet)
C_API(DictReplace) C_API(DictGetC) C_API(DictGet) C_API(DictDelC) C_API(DictDel) C_API(DictIteratorStartC)
C_API(DictIteratorStart) C_API(DictIteratorStop) C_API(DictIteratorReseekC) C_API(DictIteratorReseek)
C_API(DictNextC) C_API(DictPrevC) C_API(DictNext) C_API(DictPrev) C_API(DictCompareC) C_API(DictCompare)

/* module and commands */
SW_API(SetModuleAttribs) SW_API(IsModuleNameBusy) SW_API(CreateCommand) SW_API(GetCommand)
SW_API(CreateSubcommand) SW_API(SetCommandInfo)
/* replies */
SW_API(WrongArity) SW_API(ReplyWithLongLong) SW_API(ReplyWithError) SW_API(ReplyWithSimpleString)
SW_API(ReplyWithArray) SW_API(ReplyWithMap) SW_API(ReplyWithSet) SW_API(ReplyWithAttribute)
SW_API(ReplySetArrayLength) SW_API(ReplySetMapLength) SW_API(ReplySetSetLength) SW_API(ReplySetAttributeLength)
SW_API(ReplyWithStringBuffer) SW_API(ReplyWithCString) SW_API(ReplyWithString) SW_API(ReplyWithEmptyString)
SW_API(ReplyWithVerbatimString) SW_API(ReplyWithVerbatimStringType) SW_API(ReplyWithNull) SW_API(ReplyWithNullArray)
SW_API(ReplyWithEmptyArray) SW_API(ReplyWithBool) SW_API(ReplyWithDouble) SW_API(ReplyWithBigNumber)
SW_API(ReplyWithLongDouble) SW_API(ReplyWithCallReply)
/* keys */
SW_API(OpenKey) SW_API(CloseKey) SW_API(KeyType) SW_API(ValueLength) SW_API(DeleteKey) SW_API(UnlinkKey)
SW_API(GetExpire) SW_API(SetExpire) SW_API(GetAbsExpire) SW_API(SetAbsExpire) SW_API(StringSet) SW_API(StringDMA)
SW_API(StringTruncate) SW_API(ListPush) SW_API(ListPop) SW_API(ListGet) SW_API(ListSet) SW_API(ListInsert)
SW_API(ListDelete) SW_API(ZsetAdd) SW_API(ZsetIncrby) SW_API(ZsetRem) SW_API(ZsetScore) SW_API(ZsetRangeStop)
SW_API(ZsetFirstInScoreRange) SW_API(ZsetLastInScoreRange) SW_API(ZsetFirstInLexRange) SW_API(ZsetLastInLexRange)
SW_API(ZsetRangeCurrentElement) SW_API(ZsetRangeNext) SW_API(ZsetRangePrev) SW_API(ZsetRangeEndReached)
SW_API(SelectDb) SW_API(GetSelectedDb) SW_API(KeyExists) SW_API(GetKeyNameFromModuleKey) SW_API(GetDbIdFromModuleKey)
SW_API(ModuleTypeSetValue) SW_API(ModuleTypeGetType) SW_API(ModuleTypeGetValue) SW_API(ModuleTypeReplaceValue)
/* replication, data types, RDB/AOF I/O */
SW_API(ReplicateVerbatim) SW_API(CreateDataType) SW_API(SaveUnsigned) SW_API(LoadUnsigned) SW_API(SaveSigned)
SW_API(LoadSigned) SW_API(SaveString) SW_API(SaveStringBuffer) SW_API(LoadString) SW_API(LoadStringBuffer)
SW_API(SaveDouble) SW_API(LoadDouble) SW_API(SaveFloat) SW_API(LoadFloat) SW_API(SaveLongDouble) SW_API(LoadLongDouble)
SW_API(GetContextFromIO) SW_API(GetKeyNameFromIO) SW_API(GetDbIdFromIO) SW_API(IsIOError)
/* timers, blocking, thread-safe contexts */
SW_API(CreateTimer) SW_API(StopTimer) SW_API(GetTimerInfo)
SW_API(BlockClient) SW_API(UnblockClient) SW_API(IsBlockedReplyRequest) SW_API(IsBlockedTimeoutRequest)
SW_API(GetBlockedClientPrivateData) SW_API(GetBlockedClientHandle) SW_API(AbortBlock) SW_API(BlockedClientDisconnected)
SW_API(BlockClientOnKeys) SW_API(SignalKeyAsReady) SW_API(GetBlockedClientReadyKey) SW_API(SetDisconnectCallback)
SW_API(GetThreadSafeContext) SW_API(GetDetachedThreadSafeContext) SW_API(FreeThreadSafeContext)
/* clients, context, notifications */
SW_API(GetClientId) SW_API(GetContextFlags) SW_API(SubscribeToKeyspaceEvents) SW_API(NotifyKeyspaceEvent)
SW_API(GetNotifyKeyspaceEvents)
/* smaller families */
SW_API(SignalModifiedKey) SW_API(DbSize) SW_API(RandomKey) SW_API(ResetDataset) SW_API(PublishMessage)
SW_API(PublishMessageShard) SW_API(GetClientNameById) SW_API(SetClientNameById) SW_API(GetClientInfoById)
SW_API(GetCurrentCommandName) SW_API(GetLRU) SW_API(SetLRU) SW_API(GetLFU) SW_API(SetLFU) SW_API(GetUsedMemoryRatio)
SW_API(GetContextFlagsAll) SW_API(GetKeyspaceNotificationFlagsAll) SW_API(IsSubEventSupported) SW_API(Yield)
SW_API(BlockedClientMeasureTimeStart) SW_API(BlockedClientMeasureTimeEnd) SW_API(ReplySetPushLength)
SW_API(IsChannelsPositionRequest) SW_API(ChannelAtPosWithFlags) SW_API(GetClientUserNameById) SW_API(GetCurrentUserName)
