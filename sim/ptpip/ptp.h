/*
 * ptp: the PTP (ISO 15740) and vendor-extension numbers the simulated
 * cameras speak: operation, response and event codes, device property codes,
 * data types and object formats.  Standard values come from ISO 15740 /
 * PIMA 15740:2000; the Canon EOS and Nikon vendor codes are the ones those
 * bodies use on the wire (as documented by libgphoto2's ptp2 driver).
 */
#pragma once

/* Operations (ISO 15740 §10.4) */
enum {
    PTP_OP_GetDeviceInfo = 0x1001,
    PTP_OP_OpenSession = 0x1002,
    PTP_OP_CloseSession = 0x1003,
    PTP_OP_GetStorageIDs = 0x1004,
    PTP_OP_GetStorageInfo = 0x1005,
    PTP_OP_GetNumObjects = 0x1006,
    PTP_OP_GetObjectHandles = 0x1007,
    PTP_OP_GetObjectInfo = 0x1008,
    PTP_OP_GetObject = 0x1009,
    PTP_OP_GetThumb = 0x100A,
    PTP_OP_DeleteObject = 0x100B,
    PTP_OP_InitiateCapture = 0x100E,
    PTP_OP_GetDevicePropDesc = 0x1014,
    PTP_OP_GetDevicePropValue = 0x1015,
    PTP_OP_SetDevicePropValue = 0x1016,
    PTP_OP_GetPartialObject = 0x101B,
    PTP_OP_GetStreamInfo = 0x1024,
    PTP_OP_GetStream = 0x1025,

    /* Canon EOS */
    PTP_OP_EOS_GetStorageIDs = 0x9101,
    PTP_OP_EOS_GetStorageInfo = 0x9102,
    PTP_OP_EOS_RemoteRelease = 0x910F,
    PTP_OP_EOS_SetDevicePropValueEx = 0x9110,
    PTP_OP_EOS_SetRemoteMode = 0x9114,
    PTP_OP_EOS_SetEventMode = 0x9115,
    PTP_OP_EOS_GetEvent = 0x9116,
    PTP_OP_EOS_TransferComplete = 0x9117,
    PTP_OP_EOS_PCHDDCapacity = 0x911A,
    PTP_OP_EOS_SetUILock = 0x911B,
    PTP_OP_EOS_ResetUILock = 0x911C,
    PTP_OP_EOS_KeepDeviceOn = 0x911D,
    PTP_OP_EOS_InitiateViewfinder = 0x9151,
    PTP_OP_EOS_TerminateViewfinder = 0x9152,
    PTP_OP_EOS_GetViewFinderData = 0x9153,
    PTP_OP_EOS_DoAf = 0x9154,
    PTP_OP_EOS_DriveLens = 0x9155,
    PTP_OP_EOS_Zoom = 0x9158,
    PTP_OP_EOS_ZoomPosition = 0x9159,
    PTP_OP_EOS_AfCancel = 0x9160,

    /* Nikon */
    PTP_OP_NIKON_AfDrive = 0x90C1,
    PTP_OP_NIKON_DeviceReady = 0x90C8,
    PTP_OP_NIKON_StartLiveView = 0x9201,
    PTP_OP_NIKON_EndLiveView = 0x9202,
    PTP_OP_NIKON_GetLiveViewImg = 0x9203,
    PTP_OP_NIKON_MfDrive = 0x9204,
};

/* Responses (§11) */
enum {
    PTP_RC_OK = 0x2001,
    PTP_RC_GeneralError = 0x2002,
    PTP_RC_SessionNotOpen = 0x2003,
    PTP_RC_InvalidTransactionID = 0x2004,
    PTP_RC_OperationNotSupported = 0x2005,
    PTP_RC_ParameterNotSupported = 0x2006,
    PTP_RC_IncompleteTransfer = 0x2007,
    PTP_RC_InvalidStorageId = 0x2008,
    PTP_RC_InvalidObjectHandle = 0x2009,
    PTP_RC_DevicePropNotSupported = 0x200A,
    PTP_RC_InvalidObjectFormatCode = 0x200B,
    PTP_RC_StoreFull = 0x200C,
    PTP_RC_ObjectWriteProtected = 0x200D,
    PTP_RC_AccessDenied = 0x200F,
    PTP_RC_NoThumbnailPresent = 0x2010,
    PTP_RC_DeviceBusy = 0x2019,
    PTP_RC_InvalidParentObject = 0x201A,
    PTP_RC_InvalidDevicePropFormat = 0x201B,
    PTP_RC_InvalidDevicePropValue = 0x201C,
    PTP_RC_InvalidParameter = 0x201D,
    PTP_RC_SessionAlreadyOpened = 0x201E,
    PTP_RC_NoStreamEnabled = 0x2022,

    PTP_RC_EOS_NotReady = 0xA102,
    PTP_RC_NIKON_OutOfFocus = 0xA002,
    PTP_RC_NIKON_NotLiveView = 0xA00B,
    PTP_RC_NIKON_MfDriveStepEnd = 0xA00C,
    PTP_RC_NIKON_MfDriveStepInsufficiency = 0xA00E,
};

/* Events (§12) */
enum {
    PTP_EV_ObjectAdded = 0x4002,
    PTP_EV_ObjectRemoved = 0x4003,
    PTP_EV_DevicePropChanged = 0x4006,
    PTP_EV_StoreFull = 0x400A,
    PTP_EV_CaptureComplete = 0x400D,
};

/* Canon EOS GetEvent record types */
enum {
    PTP_EOS_REC_ObjectAddedEx = 0xC181,
    PTP_EOS_REC_RequestObjectTransfer = 0xC186,
    PTP_EOS_REC_PropValueChanged = 0xC189,
    PTP_EOS_REC_AvailListChanged = 0xC18A,
    PTP_EOS_REC_CameraStatusChanged = 0xC18B,
};

/* Device property data types (§5.3) */
enum {
    PTP_DT_INT8 = 0x0001,
    PTP_DT_UINT8 = 0x0002,
    PTP_DT_INT16 = 0x0003,
    PTP_DT_UINT16 = 0x0004,
    PTP_DT_INT32 = 0x0005,
    PTP_DT_UINT32 = 0x0006,
    PTP_DT_STR = 0xFFFF,
};

/* DevicePropDesc form flags */
enum { PTP_FORM_NONE = 0, PTP_FORM_RANGE = 1, PTP_FORM_ENUM = 2 };

/* Standard device properties (§13) */
enum {
    PTP_DPC_BatteryLevel = 0x5001,
    PTP_DPC_ImageSize = 0x5003,
    PTP_DPC_WhiteBalance = 0x5005,
    PTP_DPC_FNumber = 0x5007,
    PTP_DPC_FocalLength = 0x5008,
    PTP_DPC_FocusMode = 0x500A,
    PTP_DPC_ExposureProgramMode = 0x500E,
    PTP_DPC_ExposureTime = 0x500D,
    PTP_DPC_ExposureIndex = 0x500F,
    PTP_DPC_ExposureBiasCompensation = 0x5010,
    PTP_DPC_DateTime = 0x5011,
    PTP_DPC_SupportedStreams = 0x5020,
    PTP_DPC_EnabledStreams = 0x5021,
    PTP_DPC_NIKON_LiveViewStatus = 0xD1A2,
};

/* Object formats (§6) */
enum {
    PTP_OFC_Undefined = 0x3000,
    PTP_OFC_Association = 0x3001,
    PTP_OFC_EXIF_JPEG = 0x3801,
    PTP_OFC_TIFF = 0x380D,
    PTP_OFC_CANON_CR2 = 0xB103,
};

/* Storage */
enum {
    PTP_ST_RemovableRAM = 4,
    PTP_FS_GenericHierarchical = 2,
    PTP_AT_GenericFolder = 1,
};
